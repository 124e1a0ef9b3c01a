import { sha256Base64url } from '../../lib/hashing.js';
import { isOrdercastError } from '../../domain/errors.js';
import type { Order, OrderEvent } from '../../domain/order.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import type { OrderService } from '../../services/order-service.js';
import { topics, type ChannelHub, type HubListener } from '../../events/channel-hub.js';
import { orderPublicationOf, type HistoryStream } from './channel-history.js';
import type { ConnectionScope } from './user-channels.js';

export const ORDER_CHANNEL_PREFIX = 'order:';
const MAX_ORDER_ID_LENGTH = 100;

/** The order id of an `order:<id>` channel, or undefined for any other name. */
export function orderIdOfChannel(channel: string): string | undefined {
  if (!channel.startsWith(ORDER_CHANNEL_PREFIX)) return undefined;
  const id = channel.slice(ORDER_CHANNEL_PREFIX.length);
  return id !== '' && id.length <= MAX_ORDER_ID_LENGTH ? id : undefined;
}

/**
 * An order channel's epoch. Its offsets are the order's versions, which are never
 * reset, so the epoch never changes: it is derived from the names alone, and any
 * node (or the same one after a restart) announces the same one.
 */
export function orderChannelEpoch(projectId: string, orderId: string): string {
  return sha256Base64url(`order\u0000${projectId}\u0000${orderId}`).slice(0, 12);
}

/**
 * What a Centrifuge session needs for `order:<id>` channels and the `order.get` RPC:
 * the order as the connection's credential may see it, its versions from the log,
 * and its live events.
 */
export class OrderChannels {
  constructor(
    private readonly orders: Pick<OrderService, 'get'>,
    private readonly reader: EventLogReader,
    private readonly hub: ChannelHub,
  ) {}

  /** The order, or undefined when the credential may not read it (another user's, another project's, or none). */
  async find(scope: ConnectionScope, orderId: string): Promise<Order | undefined> {
    try {
      return await this.orders.get(scope.projectId, orderId, scope.userExternalId !== undefined ? { userExternalId: scope.userExternalId } : {});
    } catch (error) {
      // Not found and not yours look the same from outside: nothing tells whether the order exists.
      if (isOrdercastError(error) && (error.code === 'order_not_found' || error.code === 'forbidden' || error.code === 'validation_failed')) return undefined;
      throw error;
    }
  }

  /** Events of the order after `afterVersion`, oldest first. */
  read(orderId: string, afterVersion: number, limit: number): Promise<OrderEvent[]> {
    return this.reader.orderEventsAfter(orderId, afterVersion, limit);
  }

  watch(orderId: string, listener: HubListener): () => void {
    return this.hub.subscribe(topics.order(orderId), listener);
  }
}

/** An `order:<id>` channel as history and recovery read it: offsets are versions, 1, 2, 3… without gaps. */
export function orderChannelStream(orders: OrderChannels, scope: ConnectionScope, orderId: string): HistoryStream {
  const epoch = orderChannelEpoch(scope.projectId, orderId);
  const position = async () => {
    const order = await orders.find(scope, orderId);
    return { offset: order?.version ?? 0, epoch };
  };
  return {
    position,
    async read({ from, reverse = false, limit }) {
      if (!reverse) return orders.read(orderId, from ?? 0, limit);
      // Newest first, before `from` (or from the top): versions have no gaps, so the range is known.
      const below = from ?? (await position()).offset + 1;
      const first = Math.max(1, below - limit);
      const events = await orders.read(orderId, first - 1, below - first);
      return events.filter((e) => e.version < below).reverse();
    },
    offsetOf: versionOf,
    publication: orderPublicationOf,
    watch: (listener) => orders.watch(orderId, listener),
  };
}

function versionOf(event: OrderEvent): number {
  return event.version;
}
