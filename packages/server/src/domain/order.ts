/**
 * The public shapes every channel (REST, webhooks, sockets) carries are defined once, in
 * the dependency-free `@ordercast/client/types` that merchants' code imports too.
 */
import type { Order } from '@ordercast/client/types';

export type { Order, StatusHistoryEntry } from '@ordercast/client/types';

/** The most orders one page of a list holds (the API's `limit` and the CLI's `--limit`). */
export const MAX_PAGE_SIZE = 100;

export type OrderEventType = 'order.created' | 'order.status_changed' | 'order.stuck';

/** One immutable row of the event log. */
export interface OrderEvent {
  id: string;
  /** Position in the whole log: increases with every event of every project. */
  seq: number;
  /** PostgreSQL: the id of the transaction that wrote it, which orders the log by commit (see LogPosition); 0 on SQLite. */
  txId: number;
  projectId: string;
  orderId: string;
  type: OrderEventType;
  eventName: string;
  fromStatus: string | null;
  toStatus: string;
  reason: string | null;
  version: number;
  userExternalId: string | null;
  /** Gap-free position within the user's channel (project + userExternalId); null without a user. */
  userOffset: number | null;
  createdAt: string;
  order: Order;
  /** Who caused it, as stored (domain/actor.ts); null for events written before it was kept. */
  actor: string | null;
  /** The W3C traceparent of the append that wrote it, when tracing was on: later deliveries link to it. */
  traceContext?: string | null;
}

/**
 * A place in the log, in commit order: PostgreSQL readers order by (txId, seq) and read
 * only below the oldest transaction still in flight; on SQLite txId is always 0.
 */
export interface LogPosition {
  txId: number;
  seq: number;
}

export const LOG_START: LogPosition = { txId: 0, seq: 0 };

export function positionOf(event: Pick<OrderEvent, 'txId' | 'seq'>): LogPosition {
  return { txId: event.txId, seq: event.seq };
}

export function isAfter(a: LogPosition, b: LogPosition): boolean {
  return a.txId > b.txId || (a.txId === b.txId && a.seq > b.seq);
}
