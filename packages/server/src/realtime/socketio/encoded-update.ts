import type { OrderEvent } from '../../domain/order.js';
import { orderUpdateOf } from './order-update.js';

/** socket.io-parser's packet type for an event (`2`), as it starts an encoded packet. */
const EVENT_PACKET = '2';

const prefixes = new WeakMap<OrderEvent, string>();
const withOffsets = new WeakMap<OrderEvent, string>();

/**
 * The socket.io packet that emits `order:update` with this event's update on
 * `namespace`, encoded once however many sockets it goes to: the hub hands every
 * subscriber the same event object. It is exactly what socket.io-parser writes for
 * `socket.emit('order:update', update, ...extra)`: the type, the namespace, then the
 * JSON array of the event name and its arguments. `extra` (a recovery offset) is
 * appended to the shared prefix.
 */
export function encodedUpdate(event: OrderEvent, namespace: string, extra?: string): string {
  let prefix = prefixes.get(event);
  if (prefix === undefined) {
    // Without its closing bracket, so that a per-socket argument can follow.
    prefix = `${EVENT_PACKET}${namespace},${JSON.stringify(['order:update', orderUpdateOf(event)]).slice(0, -1)}`;
    prefixes.set(event, prefix);
  }
  return extra === undefined ? `${prefix}]` : `${prefix},${JSON.stringify(extra)}]`;
}

/** The whole packet with an offset that is the same for every socket (the event's log position), built once per event. */
export function encodedUpdateWithOffset(event: OrderEvent, namespace: string, offsetOf: (event: OrderEvent) => string): string {
  let packet = withOffsets.get(event);
  if (packet === undefined) {
    packet = encodedUpdate(event, namespace, offsetOf(event));
    withOffsets.set(event, packet);
  }
  return packet;
}
