import type { OrderEvent } from '../../domain/order.js';

/** The `order:update` payload: what reference 000's `socket.on('order:update', …)` receives. */
export interface OrderUpdate {
  orderId: string;
  status: string;
  previousStatus: string | null;
  version: number;
  updatedAt: string;
  eventName: string;
  order: OrderEvent['order'];
}

export function orderUpdateOf(event: OrderEvent): OrderUpdate {
  return {
    orderId: event.orderId,
    status: event.toStatus,
    previousStatus: event.fromStatus,
    version: event.version,
    updatedAt: event.createdAt,
    eventName: event.eventName,
    order: event.order,
  };
}
