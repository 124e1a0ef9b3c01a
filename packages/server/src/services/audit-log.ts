import { decodeActor, encodeActor, publicActor, type Actor } from '../domain/actor.js';
import { OrdercastError } from '../domain/errors.js';
import { MAX_PAGE_SIZE } from '../domain/order.js';
import { newId } from '../lib/ids.js';
import type { Store } from '../store/database.js';
import { insertAuditEntry, listActedEvents, listAuditEntries, type AuditFilter } from '../store/repositories/audit-log.js';
import type { Executor } from '../store/transaction.js';

/** The changes the audit log records besides order events (those are the events' own `actor`). */
export const AUDIT_ACTIONS = [
  'order.created',
  'order.status_changed',
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'api_key.created',
  'api_key.rotated',
  'api_key.revoked',
  'admin_key.created',
  'admin_key.rotated',
  'token_secret.rotated',
  'project.created',
  'project.renamed',
  'project.disabled',
  'project.enabled',
  'dashboard_link.created',
  'dashboard_session.started',
  'dashboard_session.signed_out',
  'dashboard_session.revoked',
  'order_link.created',
  'order_link.revoked',
  'project.branding_updated',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const ORDER_ACTIONS: readonly string[] = ['order.created', 'order.status_changed'];

export interface AuditEntryInput {
  projectId: string | null;
  actor: Actor;
  action: Exclude<AuditAction, 'order.created' | 'order.status_changed'>;
  target: { type: string; id: string };
  /** What changed: field names and their new values, never a secret (see scrub). */
  changes?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  object: 'audit_entry';
  action: AuditAction;
  actor: { kind: Actor['kind']; id: string | null; role?: Actor['role'] };
  address: string | null;
  target: { type: string; id: string };
  changes: Record<string, unknown>;
  createdAt: string;
}

export interface AuditQuery {
  action?: string[];
  actor?: string;
  target?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** Names whose values are secrets, and values that look like one: neither is ever written to the log. */
const SECRET_NAME = /^(secret|secrets|key|token|tokenSecret|secretKey|publishableKey|adminKey|password|authorization|headers|signature|link|cookie)$/i;
const SECRET_VALUE = /^(sk|pk|ak|whsec|dl|ds)_|^Bearer\s/i;
const REDACTED = '[redacted]';

/** What the log keeps of a change: secrets replaced, however deep they sit. */
export function scrub(value: unknown, name = ''): unknown {
  if (name && SECRET_NAME.test(name)) return REDACTED;
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => scrub(item));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, k)]));
  return value;
}

/** A page position in both sources: the audit table's seq and the event log's seq (0: that source is exhausted). */
interface Cursor {
  a: number | null;
  e: number | null;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString()) as Cursor;
    const ok = (n: unknown) => n === null || (Number.isSafeInteger(n) && (n as number) >= 0);
    if (value && ok(value.a) && ok(value.e) && encodeCursor(value) === text) return value;
  } catch {}
  throw new OrdercastError('invalid_cursor', 'The cursor is not one this API returned: pass nextCursor from a previous page unchanged');
}

function isoOrThrow(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new OrdercastError('validation_failed', `${field} must be an ISO 8601 time such as 2026-12-07T10:00:00Z`, { field });
  return new Date(ms).toISOString();
}

/**
 * Who changed what, with which credential, from where. `record` is the only way in for
 * every change but order writes, whose events carry their actor in the log itself (one
 * column on the append path, no second write); `list` reads both, newest first.
 */
export class AuditLog {
  constructor(private readonly store: Store) {}

  /** Records one change; `db` lets a caller write it in its own transaction. */
  async record(input: AuditEntryInput, db: Executor = this.store.db): Promise<void> {
    await insertAuditEntry(db, {
      id: newId('aud'),
      project_id: input.projectId,
      action: input.action,
      actor: encodeActor(input.actor),
      actor_id: input.actor.id ?? input.actor.kind,
      address: input.actor.address,
      target_type: input.target.type,
      target_id: input.target.id,
      changes: JSON.stringify(scrub(input.changes ?? {})),
      created_at: new Date().toISOString(),
    });
  }

  async list(projectId: string, query: AuditQuery): Promise<{ data: AuditEntry[]; hasMore: boolean; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`, { field: 'limit' });
    }
    for (const action of query.action ?? []) {
      if (!(AUDIT_ACTIONS as readonly string[]).includes(action)) {
        throw new OrdercastError('validation_failed', `Unknown action "${action}": one of ${AUDIT_ACTIONS.join(', ')}`, {
          field: 'action',
          valid: AUDIT_ACTIONS,
        });
      }
    }
    const filter: AuditFilter = {
      projectId,
      actorId: query.actor,
      targetId: query.target,
      since: isoOrThrow('since', query.since),
      until: isoOrThrow('until', query.until),
    };
    const cursor = query.cursor === undefined ? { a: null, e: null } : decodeCursor(query.cursor);
    const wanted = query.action && query.action.length > 0 ? query.action : undefined;
    const otherActions = wanted?.filter((a) => !ORDER_ACTIONS.includes(a));
    const orderTypes = wanted?.filter((a) => ORDER_ACTIONS.includes(a));
    const readAudit = cursor.a !== 0 && (!otherActions || otherActions.length > 0);
    const readEvents = cursor.e !== 0 && (!orderTypes || orderTypes.length > 0);
    const [audit, events] = await Promise.all([
      readAudit ? listAuditEntries(this.store.db, { ...filter, actions: otherActions }, cursor.a ?? undefined, limit + 1) : [],
      readEvents ? listActedEvents(this.store.db, { ...filter, types: orderTypes }, cursor.e ?? undefined, limit + 1) : [],
    ]);
    const merged = mergeNewestFirst(
      audit.map((row) => ({ source: 'a' as const, seq: Number(row.seq), entry: auditEntry(row) })),
      events.map((row) => ({ source: 'e' as const, seq: Number(row.seq), entry: eventEntry(row) })),
    );
    const page = merged.slice(0, limit);
    const hasMore = merged.length > limit;
    const next: Cursor = { a: cursor.a, e: cursor.e };
    for (const item of page) next[item.source] = item.seq;
    // A source with nothing more to give is closed, so the next page does not read it again.
    if (!readAudit || audit.length === page.filter((p) => p.source === 'a').length) next.a = 0;
    if (!readEvents || events.length === page.filter((p) => p.source === 'e').length) next.e = 0;
    return { data: page.map((p) => p.entry), hasMore, nextCursor: hasMore ? encodeCursor(next) : null };
  }
}

interface Sourced {
  source: 'a' | 'e';
  seq: number;
  entry: AuditEntry;
}

/**
 * Merges two lists, each newest first by its own seq, by time. A merge (not a sort) keeps
 * each list in its seq order even where times disagree with it, so a source's cursor,
 * the seq of the last entry taken from it, never passes over an entry not yet shown.
 */
function mergeNewestFirst(left: Sourced[], right: Sourced[]): Sourced[] {
  const out: Sourced[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const a = left[i];
    const b = right[j];
    if (a && (!b || a.entry.createdAt >= b.entry.createdAt)) {
      out.push(a);
      i++;
    } else {
      out.push(b as Sourced);
      j++;
    }
  }
  return out;
}

function auditEntry(row: {
  id: string;
  action: string;
  actor: string;
  address: string | null;
  target_type: string;
  target_id: string;
  changes: string;
  created_at: string;
}): AuditEntry {
  const actor = decodeActor(row.actor) ?? { kind: 'cli', id: null, address: null };
  return {
    id: row.id,
    object: 'audit_entry',
    action: row.action as AuditAction,
    actor: publicActor(actor)!,
    address: row.address,
    target: { type: row.target_type, id: row.target_id },
    changes: JSON.parse(row.changes) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

function eventEntry(row: {
  id: string;
  order_id: string;
  type: string;
  from_status: string | null;
  to_status: string;
  actor: string | null;
  created_at: string;
}): AuditEntry {
  const actor = decodeActor(row.actor) ?? { kind: 'cli', id: null, address: null };
  return {
    id: row.id,
    object: 'audit_entry',
    action: row.type as AuditAction,
    actor: publicActor(actor)!,
    address: actor.address,
    target: { type: 'order', id: row.order_id },
    changes: row.type === 'order.created' ? { status: row.to_status } : { status: row.to_status, fromStatus: row.from_status },
    createdAt: row.created_at,
  };
}
