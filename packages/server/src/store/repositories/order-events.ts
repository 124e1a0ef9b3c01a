import type { Selectable } from 'kysely';
import { RECENT_HISTORY_LIMIT } from '../../domain/order-decisions.js';
import type { Order, OrderEvent, OrderEventType } from '../../domain/order.js';
import { withTimingDefaults } from '../../domain/order-timing.js';
import type { OrderEventsTable } from '../schema.js';
import type { Executor } from '../transaction.js';

export type EventRow = Selectable<OrderEventsTable>;

export function rowToEvent(row: EventRow): OrderEvent {
  const order = withTimingDefaults(JSON.parse(row.snapshot) as Order);
  // Events written before the history moved to the log carry all of it: cut to the documented window.
  if (order.statusHistory.length > RECENT_HISTORY_LIMIT) order.statusHistory = order.statusHistory.slice(-RECENT_HISTORY_LIMIT);
  return {
    id: row.id,
    seq: Number(row.seq),
    txId: Number(row.tx_id),
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
    order,
    actor: row.actor ?? null,
    traceContext: row.trace_context ?? null,
  };
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
  let q = db.selectFrom('order_events').selectAll().where('project_id', '=', query.projectId).where('user_external_id', '=', query.userExternalId);
  if (query.from !== undefined) q = q.where('user_offset', query.reverse ? '<' : '>', query.from);
  const rows = await q
    .orderBy('user_offset', query.reverse ? 'desc' : 'asc')
    .limit(query.limit)
    .execute();
  return rows.map(rowToEvent);
}

/** The stored traceparents of these events, by event id (events written with tracing off have none). */
export async function eventTraceContexts(db: Executor, eventIds: readonly string[]): Promise<Map<string, string>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('order_events')
    .select(['id', 'trace_context'])
    .where('id', 'in', [...new Set(eventIds)])
    .where('trace_context', 'is not', null)
    .execute();
  return new Map(rows.map((row) => [row.id, row.trace_context as string]));
}
