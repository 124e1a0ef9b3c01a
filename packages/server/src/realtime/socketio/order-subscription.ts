import { isAfter, type LogPosition, type OrderEvent } from '../../domain/order.js';
import { topics, type ChannelHub } from '../../events/channel-hub.js';
import type { Logger } from '../../lib/logging.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import { OrderedDelivery, type OrderedDeliveryOptions } from '../ordered-delivery.js';

/** What an order subscription needs of the session that holds it. */
export interface SubscriptionOwner {
  /** Whether events end with offsets (recovery on): subscriptions then note what they were offered. */
  readonly tracksOffsets: boolean;
  unsettle(subscription: OrderSubscription): void;
  send(event: OrderEvent): void;
}

export interface OrderSubscriptionDeps {
  reader: EventLogReader;
  hub: ChannelHub;
  logger: Logger;
}

const CATCH_UP_BATCH = 200;

/**
 * Where a subscription stands, against the log position of an event about to be sent:
 * - settled: everything offered to it went out (nothing to check until it is offered more);
 * - ahead: what it still has to send comes after the position;
 * - behind: it has not sent everything up to the position (not started, catching up, or waiting its turn).
 */
export type Standing = 'settled' | 'ahead' | 'behind';

/**
 * One order a session follows: the hub subscription, and the OrderedDelivery whose
 * callbacks it provides itself (one object per subscription rather than a closure
 * per callback, each capturing the session's scope).
 */
export class OrderSubscription implements OrderedDeliveryOptions {
  readonly delivery: OrderedDelivery;
  readonly unsubscribe: () => void;
  /** Set while a subscription restored by recovery has not been asked for again: the version it resumed from. */
  restoredFrom?: number;
  /** The version it started from (the order's, or `sinceVersion`): kept in the session's row. */
  startedFrom?: number;
  /** The version it has to have sent before it is in step with the live events; none until it starts. */
  private target = Number.POSITIVE_INFINITY;
  /** Events the hub offered that may not have gone out yet, oldest first. */
  private pending: OrderEvent[] | undefined;

  constructor(
    private readonly orderId: string,
    private readonly session: SubscriptionOwner,
    private readonly deps: OrderSubscriptionDeps,
  ) {
    this.delivery = new OrderedDelivery(this);
    this.unsubscribe = deps.hub.subscribe(topics.order(orderId), (event) => {
      if (session.tracksOffsets) {
        (this.pending ??= []).push(event);
        session.unsettle(this);
      }
      this.delivery.offer(event);
    });
  }

  /** Notes the version it has to reach before it is in step (the order's, read at subscribe), ahead of `start`. */
  expect(target: number): void {
    this.target = target;
  }

  /** Goes live from `position`, first catching up from the log to `target` when it is further. */
  start(position: number, target: number): void {
    this.target = target;
    this.delivery.start(position, target > position);
  }

  standingAt(position: LogPosition): Standing {
    // Before it starts, what it has is the version it starts from.
    const current = Math.max(this.delivery.current, this.startedFrom ?? -1);
    if (current < this.target) return 'behind';
    const pending = this.pending;
    if (!pending) return 'settled';
    // Versions of one order are consecutive in the log: what `current` covers went out (or was not needed).
    while (pending.length > 0 && pending[0]!.version <= current) pending.shift();
    const next = pending[0];
    if (!next) {
      this.pending = undefined;
      return 'settled';
    }
    return next.version > current + 1 || isAfter(position, next) ? 'behind' : 'ahead';
  }

  positionOf(event: OrderEvent): number {
    return event.version;
  }

  readAfter(version: number): Promise<OrderEvent[]> {
    return this.deps.reader.orderEventsAfter(this.orderId, version, CATCH_UP_BATCH);
  }

  deliver(event: OrderEvent): void {
    this.session.send(event);
  }

  onError(error: unknown): void {
    this.deps.logger.warn({ err: error, orderId: this.orderId }, 'socket.io: catching up from the log failed');
  }
}
