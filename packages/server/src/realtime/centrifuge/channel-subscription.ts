import type { OrderEvent } from '../../domain/order.js';
import type { Logger } from '../../lib/logging.js';
import { OrderedDelivery, type OrderedDeliveryOptions } from '../ordered-delivery.js';
import type { HistoryStream, Publication } from './channel-history.js';

/** Where a channel's publications go: the session's connection. */
export interface PublicationSink {
  publish(event: OrderEvent, channel: string, publication: (event: OrderEvent) => Publication): void;
}

const READ_BATCH = 200;

/**
 * One channel a Centrifuge session follows (the user's channel, or an `order:<id>`
 * channel): its live events in order, gaps filled from the log. It watches the hub from
 * the start, so what commits before `delivery.start` waits in the delivery. Its methods
 * are the delivery's options: no closures per subscription beyond the hub listener.
 */
export class ChannelSubscription implements OrderedDeliveryOptions {
  readonly delivery: OrderedDelivery = new OrderedDelivery(this);
  private readonly unwatch: () => void;

  constructor(
    readonly channel: string,
    readonly stream: HistoryStream,
    private readonly sink: PublicationSink,
    private readonly logger: Logger,
  ) {
    this.unwatch = stream.watch((event) => this.delivery.offer(event));
  }

  close(): void {
    this.unwatch();
    this.delivery.close();
  }

  positionOf(event: OrderEvent): number {
    return this.stream.offsetOf(event);
  }

  readAfter(offset: number): Promise<OrderEvent[]> {
    return this.stream.read({ from: offset, limit: READ_BATCH });
  }

  deliver(event: OrderEvent): void {
    this.sink.publish(event, this.channel, this.stream.publication);
  }

  onError(error: unknown): void {
    this.logger.warn({ err: error, channel: this.channel }, 'centrifuge: catching up from the log failed');
  }
}
