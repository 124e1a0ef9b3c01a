/**
 * The public shapes every channel (REST, webhooks, sockets) carries are defined once, in
 * the dependency-free `@ordercast/client/types` that merchants' code imports too.
 */
import type { Order } from '@ordercast/client/types';

export type { Order, StatusHistoryEntry } from '@ordercast/client/types';

export type OrderEventType = 'order.created' | 'order.status_changed';

/** One immutable row of the event log. */
export interface OrderEvent {
  id: string;
  /** Position in the whole log: increases with every event of every project. */
  seq: number;
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
}
