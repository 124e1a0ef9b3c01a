import { sql } from 'kysely';
import type { LogPosition } from '../../domain/order.js';
import type { Executor } from '../transaction.js';

/** Whom a Socket.IO session acts for: a reconnect with a credential of anyone else starts a new session. */
export interface SessionActor {
  projectId: string;
  kind: 'secret' | 'user';
  userExternalId?: string;
}

/** What a recoverable Socket.IO session follows, as its row keeps it. */
export interface SessionSubscriptions {
  /** [orderId, the version the subscription started from]: versions at or below it are never replayed. */
  orders: Array<[string, number]>;
  /** Where the project feed started, when the session follows it. */
  feed?: LogPosition;
}

export interface SessionRow extends SessionSubscriptions {
  actor: SessionActor;
  expiresAt: number;
}

/** The row's `subscriptions` text: what the session follows, and the kind and user it acts for (the project has a column). */
function encode(row: SessionSubscriptions & { actor: SessionActor }): string {
  return JSON.stringify({
    orders: row.orders,
    feed: row.feed ? [row.feed.txId, row.feed.seq] : null,
    actor: [row.actor.kind, row.actor.userExternalId ?? null],
  });
}

function decode(projectId: string, text: string): (SessionSubscriptions & { actor: SessionActor }) | undefined {
  try {
    const value = JSON.parse(text) as { orders?: unknown; feed?: unknown; actor?: unknown };
    if (!Array.isArray(value.orders) || !Array.isArray(value.actor)) return undefined;
    const [kind, userExternalId] = value.actor as unknown[];
    if (kind !== 'secret' && !(kind === 'user' && typeof userExternalId === 'string')) return undefined;
    const orders = value.orders.filter((o): o is [string, number] => Array.isArray(o) && typeof o[0] === 'string' && Number.isSafeInteger(o[1]));
    const feed = Array.isArray(value.feed) ? { txId: Number(value.feed[0]), seq: Number(value.feed[1]) } : undefined;
    const actor: SessionActor = kind === 'user' ? { projectId, kind, userExternalId: userExternalId as string } : { projectId, kind: 'secret' };
    return { orders, actor, ...(feed ? { feed } : {}) };
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
  row: { sessionId: string; actor: SessionActor; connectedAt: number; expiresAt: number } & SessionSubscriptions,
): Promise<boolean> {
  const values = {
    session_id: row.sessionId,
    project_id: row.actor.projectId,
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
  const subscriptions = decode(row.project_id, row.subscriptions);
  return subscriptions ? { expiresAt: Number(row.expires_at), ...subscriptions } : undefined;
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
