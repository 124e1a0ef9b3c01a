import { OrdercastError } from './errors.js';

export const MAX_CUSTOM_HEADERS = 10;
const utf8 = new TextEncoder();
/** Names and values together, in UTF-8 bytes. */
export const MAX_CUSTOM_HEADER_BYTES = 1024;

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;
/** Visible ASCII, spaces and tabs, and Latin-1 (obs-text, sent as single bytes): no CR, LF, NUL or other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers a sender must own: hop-by-hop ones (RFC 9110 §7.6.1), those that frame the
 * message, and the ones every delivery carries (signature, content type, user agent).
 */
const RESERVED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-encoding',
  'expect',
  'content-type',
  'user-agent',
]);

/**
 * Checks the custom headers of a webhook endpoint; returns them with names as given.
 * Each refusal has its own code: a malformed name or value (`invalid_webhook_header`),
 * a name the sender owns (`forbidden_webhook_header`), too many or too big
 * (`webhook_headers_too_large`).
 */
export function validateCustomHeaders(input: unknown): Record<string, string> {
  if (input === null || input === undefined) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new OrdercastError('invalid_webhook_header', 'headers must be an object of header names to string values', { field: 'headers' });
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_CUSTOM_HEADERS) {
    throw new OrdercastError('webhook_headers_too_large', `An endpoint may have at most ${MAX_CUSTOM_HEADERS} custom headers (got ${entries.length})`, {
      field: 'headers',
      max: MAX_CUSTOM_HEADERS,
    });
  }
  const seen = new Set<string>();
  let bytes = 0;
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) {
      throw new OrdercastError('invalid_webhook_header', `"${name.slice(0, 64)}" is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only)`, {
        field: 'headers',
        header: name.slice(0, 128),
      });
    }
    const lower = name.toLowerCase();
    if (RESERVED.has(lower) || lower.startsWith('webhook-')) {
      throw new OrdercastError(
        'forbidden_webhook_header',
        `The ${name} header cannot be set: Ordercast sets webhook-*, content-type and user-agent itself, and hop-by-hop and framing headers belong to the connection`,
        { field: 'headers', header: name },
      );
    }
    if (seen.has(lower))
      throw new OrdercastError('invalid_webhook_header', `The ${name} header is given twice (names are case-insensitive)`, { field: 'headers', header: name });
    seen.add(lower);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw new OrdercastError(
        'invalid_webhook_header',
        `The value of ${name} must be a string of visible ASCII or Latin-1 characters, spaces and tabs: no CR, LF or other control characters`,
        {
          field: 'headers',
          header: name,
        },
      );
    }
    if (value !== value.trim()) {
      throw new OrdercastError('invalid_webhook_header', `The value of ${name} must not start or end with whitespace`, { field: 'headers', header: name });
    }
    bytes += utf8.encode(name).length + utf8.encode(value).length;
  }
  if (bytes > MAX_CUSTOM_HEADER_BYTES) {
    throw new OrdercastError(
      'webhook_headers_too_large',
      `Custom headers may take at most ${MAX_CUSTOM_HEADER_BYTES} bytes in all, names and values (got ${bytes})`,
      {
        field: 'headers',
        maxBytes: MAX_CUSTOM_HEADER_BYTES,
      },
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
