import { OrdercastError } from '../domain/errors.js';

/**
 * A list's page cursor: the position of the page's last row, opaque to clients and tagged
 * with the list it belongs to (`o` orders, `d` webhook deliveries), so one list refuses
 * another's cursor.
 */
export function encodePageCursor(list: string, seq: number): string {
  return Buffer.from(`${list}:${seq}`).toString('base64url');
}

/** The position in a cursor this list gave out; `invalid_cursor` for anything else (another list's, edited, made up). */
export function decodePageCursor(list: string, cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const separator = text.indexOf(':');
  const seq = text.slice(separator + 1);
  // Re-encoding must give the cursor back: base64url has more than one spelling of some texts.
  if (text.slice(0, separator) !== list || !/^\d{1,15}$/.test(seq) || Buffer.from(text).toString('base64url') !== cursor) {
    throw new OrdercastError('invalid_cursor', 'The cursor is not one this API returned: pass nextCursor from a previous page unchanged');
  }
  return Number(seq);
}

/** A time a list is filtered by (an ISO-8601 date, or date and time), as a full ISO string; `validation_failed` naming the field otherwise. */
export function isoTimeFilter(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new OrdercastError('validation_failed', `${field} must be an ISO-8601 date or time, such as 2026-01-31T12:00:00Z`, { field });
  }
  return date.toISOString();
}
