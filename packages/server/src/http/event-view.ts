import { decodeActor, publicActor } from '../domain/actor.js';
import type { OrderEvent } from '../domain/order.js';

/** An event of the log as the API shows it: the timeline entry, without the order snapshot. */
export function publicEvent(event: OrderEvent) {
  return {
    id: event.id,
    object: 'event' as const,
    type: event.type,
    eventName: event.eventName,
    orderId: event.orderId,
    fromStatus: event.fromStatus,
    toStatus: event.toStatus,
    reason: event.reason,
    version: event.version,
    createdAt: event.createdAt,
    actor: publicActor(decodeActor(event.actor)),
  };
}
