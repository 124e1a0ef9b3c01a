import type { OrderEvent } from '../../domain/order.js';
import type { Publication } from './channel-history.js';
import { encodeFrame } from './codec.js';

/**
 * The encoded `pub` push of an event on a channel, made once per process however
 * many connections follow that channel: the hub hands the same event object to every
 * subscriber, so the first one encodes and the others reuse the string. Events read
 * from the log for one subscriber (catch-up) are their own objects and are encoded
 * for it alone. Entries go with their event, when nothing holds it any more.
 */
const frames = new WeakMap<OrderEvent, Map<string, string>>();

export function publicationFrame(event: OrderEvent, channel: string, publication: (event: OrderEvent) => Publication): string {
  let byChannel = frames.get(event);
  if (!byChannel) frames.set(event, (byChannel = new Map()));
  let frame = byChannel.get(channel);
  if (frame === undefined) {
    frame = encodeFrame([{ push: { channel, pub: publication(event) } }]);
    byChannel.set(channel, frame);
  }
  return frame;
}
