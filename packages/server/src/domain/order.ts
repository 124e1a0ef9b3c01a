/** The shapes every channel (REST, webhooks, sockets) carries. */
export interface StatusHistoryEntry {
  status: string;
  reason: string | null;
  at: string;
  version: number;
}

export interface Order {
  id: string;
  object: 'order';
  projectId: string;
  externalId: string | null;
  userExternalId: string | null;
  amount: string | null;
  currency: string | null;
  metadata: Record<string, unknown>;
  status: string;
  version: number;
  final: boolean;
  createdAt: string;
  updatedAt: string;
  statusHistory: StatusHistoryEntry[];
}

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
