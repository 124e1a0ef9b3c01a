import type { OrderEvent } from '../../domain/order.js';
import { topics } from '../../events/channel-hub.js';
import type { Logger } from '../../lib/logging.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import { OrderedDelivery, type OrderedDeliveryOptions } from '../ordered-delivery.js';
import type { LiveRooms } from './live-rooms.js';

/** What an order subscription needs of the session that holds it. */
export interface SubscriptionOwner {
  /** Sends one event to this socket alone; `live` when it came through the hub (the follower has passed it). */
  send(event: OrderEvent, live: boolean): void;
  /** Puts the socket in a topic's room. */
  enter(topic: string): void;
  /** The subscription may have gone in or out of step. */
  review(subscription: OrderSubscription): void;
}

export interface OrderSubscriptionDeps {
  reader: EventLogReader;
  rooms: LiveRooms;
  logger: Logger;
}

const CATCH_UP_BATCH = 200;

/**
 * One order a session follows. It starts as a joiner of the order's room: an
 * OrderedDelivery of its own, offered the order's live events after the room's
 * broadcast, which first sends what the client is still to get (from the version read
 * at subscribe, or `sinceVersion`, or where a recovery resumed), reading the log on a
 * gap. As soon as it has sent everything it was to catch up and was offered, it is in
 * step: the socket joins the room and the delivery is dropped. What it sent may be
 * ahead of the follower (the order read at subscribe, or the log, may hold versions the
 * hub has not brought yet): the room's broadcasts of those versions are not written
 * to this socket (`skips`). From then on the subscription is a few numbers, and the
 * room brings its events; an idle connection never waits for a live event to get there.
 */
export class OrderSubscription implements OrderedDeliveryOptions {
  /** Set while a subscription restored by recovery has not been asked for again: the version it resumed from. */
  restoredFrom?: number;
  /** The version it started from (the order's, or `sinceVersion`): kept in the session's row. */
  startedFrom?: number;
  /** In the room: the newest version it sent before joining, while the room may still bring it (its broadcasts up to it are skipped). */
  private sentBeforeRoom?: number;
  private delivery: OrderedDelivery | undefined;
  private release: (() => void) | undefined;
  /** The version it has to have sent before it is in step with the live events; none until it knows. */
  private target = Number.POSITIVE_INFINITY;
  /** The newest live event offered to it, and its version. */
  private lastOffered: OrderEvent | undefined;
  private newestOffered = -1;

  constructor(
    readonly orderId: string,
    private readonly owner: SubscriptionOwner,
    private readonly deps: OrderSubscriptionDeps,
  ) {
    this.delivery = new OrderedDelivery(this);
    this.release = deps.rooms.attach(topics.order(orderId), (event) => {
      this.lastOffered = event;
      if (event.version > this.newestOffered) this.newestOffered = event.version;
      this.delivery?.offer(event);
      owner.review(this);
    });
  }

  /** Whether the socket is in the order's room. */
  get inRoom(): boolean {
    return this.delivery === undefined;
  }

  /** Notes the version it has to reach before it is in step (the order's, read at subscribe), ahead of `start`. */
  expect(target: number): void {
    this.target = target;
  }

  /** Sends what comes after `position`, first catching up from the log to `target` when it is further. */
  start(position: number, target: number): void {
    this.target = target;
    this.delivery?.start(position, target > position);
    this.owner.review(this);
    this.onIdle();
  }

  /** Once it has sent what it was offered and what the log held to catch up, the room brings the rest. */
  onIdle(): void {
    const delivery = this.delivery;
    if (!delivery?.idling || !this.inStep) return;
    this.sentBeforeRoom = delivery.current;
    this.owner.enter(topics.order(this.orderId));
    this.close();
    this.owner.review(this);
  }

  /**
   * Whether a broadcast of the order's room is to be written to this socket: not
   * when it was sent before the socket joined the room. Past those, it always is.
   */
  admits(event: OrderEvent): boolean {
    if (this.sentBeforeRoom === undefined) return true;
    if (event.version <= this.sentBeforeRoom) return false;
    this.sentBeforeRoom = undefined;
    return true;
  }

  /**
   * Whether the client has every version of the order the hub has offered and the
   * log had when it subscribed: then a log position it is sent says what it has of
   * this order too. Before the subscription starts, what it has is where it starts.
   */
  get inStep(): boolean {
    if (!this.delivery) return true;
    const have = Math.max(this.delivery.current, this.startedFrom ?? -1);
    return have >= this.target && this.newestOffered <= have;
  }

  close(): void {
    this.delivery?.close();
    this.delivery = undefined;
    this.release?.();
    this.release = undefined;
    this.lastOffered = undefined;
  }

  positionOf(event: OrderEvent): number {
    return event.version;
  }

  readAfter(version: number): Promise<OrderEvent[]> {
    return this.deps.reader.orderEventsAfter(this.orderId, version, CATCH_UP_BATCH);
  }

  deliver(event: OrderEvent): void {
    const live = event === this.lastOffered;
    this.owner.send(event, live);
    // Catching up may have just reached the target; after a live event, the room brings the next one.
    this.owner.review(this);
    this.onIdle();
  }

  onError(error: unknown): void {
    this.deps.logger.warn({ err: error, orderId: this.orderId }, 'socket.io: catching up from the log failed');
  }
}
