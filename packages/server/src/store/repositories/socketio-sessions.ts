import { sql } from 'kysely';
import type { LogPosition } from '../../domain/order.js';
import type { Executor } from '../transaction.js';

/** What a recoverable Socket.IO session follows, as its row keeps it. */
export interface SessionSubscriptions {
  /** [orderId, the version the subscription started from]: versions at or below it are never replayed. */
  orders: Array<[string, number]>;
  /** Where the project feed started, when the session follows it. */
  feed?: LogPosition;
}

export interface SessionRow extends SessionSubscriptions {
  projectId: string;
  expiresAt: number;
}

function encode(subscriptions: SessionSubscriptions): string {
  return JSON.stringify({ orders: subscriptions.orders, feed: subscriptions.feed ? [subscriptions.feed.txId, subscriptions.feed.seq] : null });
}

function decode(text: string): SessionSubscriptions | undefined {
  try {
    const value = JSON.parse(text) as { orders?: unknown; feed?: unknown };
    if (!Array.isArray(value.orders)) return undefined;
    const orders = value.orders.filter((o): o is [string, number] => Array.isArray(o) && typeof o[0] === 'string' && Number.isSafeInteger(o[1]));
    const feed = Array.isArray(value.feed) ? { txId: Number(value.feed[0]), seq: Number(value.feed[1]) } : undefined;
    return { orders, ...(feed ? { feed } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Writes the session's subscriptions, unless a connection of the same session that
 * connected later has written them already (the client moved on; a late write of the
 * old connection must not undo the new one's). True when written.
 */
export async function saveSession(
  db: Executor,
  row: { sessionId: string; projectId: string; connectedAt: number; expiresAt: number } & SessionSubscriptions,
): Promise<boolean> {
  const values = {
    session_id: row.sessionId,
    project_id: row.projectId,
    subscriptions: encode(row),
    connected_at: row.connectedAt,
    expires_at: row.expiresAt,
  };
  const result = await db
    .insertInto('socketio_sessions')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('session_id')
        .doUpdateSet({ subscriptions: values.subscriptions, connected_at: values.connected_at, expires_at: values.expires_at })
        .where('socketio_sessions.connected_at', '<=', values.connected_at),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function readSession(db: Executor, sessionId: string): Promise<SessionRow | undefined> {
  const row = await db
    .selectFrom('socketio_sessions')
    .select(['project_id', 'subscriptions', 'expires_at'])
    .where('session_id', '=', sessionId)
    .executeTakeFirst();
  if (!row) return undefined;
  const subscriptions = decode(row.subscriptions);
  return subscriptions ? { projectId: row.project_id, expiresAt: Number(row.expires_at), ...subscriptions } : undefined;
}

/** Pushes back the expiry of sessions still connected. */
export async function renewSessions(db: Executor, sessionIds: string[], expiresAt: number): Promise<void> {
  if (sessionIds.length === 0) return;
  await db.updateTable('socketio_sessions').set({ expires_at: expiresAt }).where('session_id', 'in', sessionIds).execute();
}

/** Deletes up to `limit` sessions that expired before `now`; returns how many. */
export async function deleteExpiredSessions(db: Executor, now: number, limit: number): Promise<number> {
  const ids = (await db.selectFrom('socketio_sessions').select('session_id').where('expires_at', '<', now).limit(limit).execute()).map((r) => r.session_id);
  if (ids.length === 0) return 0;
  await db.deleteFrom('socketio_sessions').where('session_id', 'in', ids).where('expires_at', '<', now).execute();
  return ids.length;
}

/**
 * For each order, its newest version at or before a log position (commit order:
 * (tx_id, seq), tx_id being 0 on SQLite); orders with none are left out.
 */
export async function orderVersionsAt(db: Executor, orders: Array<[string, number]>, position: LogPosition): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  if (orders.length === 0) return versions;
  const rows = await db
    .selectFrom('order_events')
    .select(['order_id', (eb) => eb.fn.max('version').as('version')])
    .where(
      'order_id',
      'in',
      orders.map(([orderId]) => orderId),
    )
    .where(sql<boolean>`(tx_id, seq) <= (${position.txId}, ${position.seq})`)
    .groupBy('order_id')
    .execute();
  for (const row of rows) versions.set(row.order_id, Number(row.version));
  return versions;
}
