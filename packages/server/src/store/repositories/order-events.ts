import type { Selectable } from 'kysely';
import type { OrderEvent, OrderEventType } from '../../domain/order.js';
import type { OrderEventsTable } from '../schema.js';
import { precompiled } from '../precompiled-query.js';
import type { Executor } from '../transaction.js';

type EventRow = Selectable<OrderEventsTable>;

export function rowToEvent(row: EventRow): OrderEvent {
  return {
    id: row.id,
    seq: row.seq,
    projectId: row.project_id,
    orderId: row.order_id,
    type: row.type as OrderEventType,
    eventName: row.event_name,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    reason: row.reason,
    version: row.version,
    userExternalId: row.user_external_id,
    userOffset: row.user_offset,
    createdAt: row.created_at,
    order: JSON.parse(row.snapshot),
  };
}

export type NewEvent = Omit<OrderEvent, 'seq'>;

const insertEventRow = precompiled(
  (
    db: Executor,
    id: string,
    projectId: string,
    orderId: string,
    type: string,
    eventName: string,
    fromStatus: string | null,
    toStatus: string,
    reason: string | null,
    version: number,
    userExternalId: string | null,
    userOffset: number | null,
    snapshot: string,
    createdAt: string,
  ) =>
    db
      .insertInto('order_events')
      .values({
        id,
        project_id: projectId,
        order_id: orderId,
        type,
        event_name: eventName,
        from_status: fromStatus,
        to_status: toStatus,
        reason,
        version,
        user_external_id: userExternalId,
        user_offset: userOffset,
        snapshot,
        created_at: createdAt,
      })
      .returning('seq'),
);

export async function insertEvent(db: Executor, event: NewEvent): Promise<OrderEvent> {
  const row = await insertEventRow.firstOrThrow(
    db,
    event.id,
    event.projectId,
    event.orderId,
    event.type,
    event.eventName,
    event.fromStatus,
    event.toStatus,
    event.reason,
    event.version,
    event.userExternalId,
    event.userOffset,
    JSON.stringify(event.order),
    event.createdAt,
  );
  return { ...event, seq: row.seq };
}

/** The events of one order with a version greater than `afterVersion`, oldest first. */
export async function listOrderEvents(db: Executor, orderId: string, afterVersion = 0, limit = 1000): Promise<OrderEvent[]> {
  const rows = await db
    .selectFrom('order_events')
    .selectAll()
    .where('order_id', '=', orderId)
    .where('version', '>', afterVersion)
    .orderBy('version')
    .limit(limit)
    .execute();
  return rows.map(rowToEvent);
}

/** Events of the whole log after `afterSeq`, oldest first (feeds and catch-up). */
export async function listEventsAfterSeq(db: Executor, afterSeq: number, limit: number, projectId?: string): Promise<OrderEvent[]> {
  let query = db.selectFrom('order_events').selectAll().where('seq', '>', afterSeq);
  if (projectId !== undefined) query = query.where('project_id', '=', projectId);
  const rows = await query.orderBy('seq').limit(limit).execute();
  return rows.map(rowToEvent);
}

export async function latestEventSeq(db: Executor): Promise<number> {
  const row = await db.selectFrom('order_events').select((eb) => eb.fn.max('seq').as('top')).executeTakeFirst();
  return Number(row?.top ?? 0);
}

export interface UserChannelQuery {
  projectId: string;
  userExternalId: string;
  /** Publications with an offset greater than this (forward) or smaller (reverse). */
  from?: number;
  reverse?: boolean;
  limit: number;
}

/** Events of one user channel by offset, over the (project_id, user_external_id, user_offset) index. */
export async function listUserChannelEvents(db: Executor, query: UserChannelQuery): Promise<OrderEvent[]> {
  let q = db
    .selectFrom('order_events')
    .selectAll()
    .where('project_id', '=', query.projectId)
    .where('user_external_id', '=', query.userExternalId);
  if (query.from !== undefined) q = q.where('user_offset', query.reverse ? '<' : '>', query.from);
  const rows = await q.orderBy('user_offset', query.reverse ? 'desc' : 'asc').limit(query.limit).execute();
  return rows.map(rowToEvent);
}

/** Only the positions of the events after `afterSeq`: the log tailer's cheap probe. */
export async function listEventSeqsAfter(db: Executor, afterSeq: number, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('order_events').select('seq').where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  return rows.map((r) => Number(r.seq));
}

export async function listEventsBySeqs(db: Executor, seqs: number[]): Promise<OrderEvent[]> {
  if (seqs.length === 0) return [];
  const rows = await db.selectFrom('order_events').selectAll().where('seq', 'in', seqs).orderBy('seq').execute();
  return rows.map(rowToEvent);
}
