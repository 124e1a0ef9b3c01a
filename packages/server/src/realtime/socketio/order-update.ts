import type { OrderUpdate } from '@ordercast/client/types';
import type { OrderEvent } from '../../domain/order.js';

/** The `order:update` payload (what reference 000's `socket.on('order:update', …)` receives), one of the public shapes. */
export type { OrderUpdate };

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
