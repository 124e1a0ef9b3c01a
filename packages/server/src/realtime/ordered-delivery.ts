import type { OrderEvent } from '../domain/order.js';

export interface OrderedDeliveryOptions {
  /** The position of an event in this stream (order version, or channel offset): consecutive, without gaps. */
  positionOf(event: OrderEvent): number;
  /** Events after `position`, oldest first, from the log. */
  readAfter(position: number): Promise<OrderEvent[]>;
  deliver(event: OrderEvent): void;
  onError?(error: unknown): void;
  /** Everything offered so far (and the catch-up `start` asked for) is delivered or dropped. */
  onIdle?(): void;
}

/**
 * Delivers one stream (an order's versions, a user channel's offsets) to one
 * subscriber in order, exactly once, by Centrifuge's rule: skip what is stale, send
 * what is next, and on a gap read the log after the position (which holds the missing
 * events and the one that showed the gap). Live events come from the hub in the
 * follower's commit order, so a gap only shows where the subscriber started behind
 * the live stream (a `sinceVersion`, a recovery, an order read before its hub
 * subscription caught a newer event): the log is read then, never per live event.
 *
 * Events offered before `start` wait, so nothing is lost between reading the
 * subscriber's starting point and going live.
 */
export class OrderedDelivery {
  private position = -1;
  private chain: Promise<void>;
  /** Releases what waits for `start`; dropped then (an idle subscriber keeps no spent closure). */
  private begin: (() => void) | undefined;
  private started = false;
  /** Steps queued on the chain and not yet finished. */
  private queued = 0;
  private closed = false;

  constructor(private readonly options: OrderedDeliveryOptions) {
    this.chain = new Promise<void>((resolve) => (this.begin = resolve));
  }

  /** Goes live from `position`; with `catchUp`, first delivers what the log holds after it. */
  start(position: number, catchUp = false): void {
    this.position = position;
    this.started = true;
    if (catchUp) this.enqueue(() => this.readLog());
    this.begin?.();
    this.begin = undefined;
  }

  offer(event: OrderEvent): void {
    // The usual case, with nothing queued before it: the next event goes out at once, and
    // a stale one is dropped, without a promise per event and subscriber.
    if (this.started && this.queued === 0 && !this.closed) {
      const at = this.options.positionOf(event);
      if (at <= this.position) return;
      if (at === this.position + 1) {
        try {
          this.emit(event, at);
        } catch (error) {
          this.options.onError?.(error);
        }
        return;
      }
    }
    this.enqueue(() => this.apply(event));
  }

  /** Resolves once everything offered so far is delivered or dropped. */
  idle(): Promise<void> {
    return this.chain;
  }

  get current(): number {
    return this.position;
  }

  /** Started, and nothing offered is still waiting or being read from the log. */
  get idling(): boolean {
    return this.started && this.queued === 0 && !this.closed;
  }

  close(): void {
    this.closed = true;
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.queued++;
    this.chain = this.chain
      .then(() => (this.closed ? undefined : step()))
      .catch((error) => this.options.onError?.(error))
      .finally(() => {
        if (--this.queued === 0 && !this.closed) this.options.onIdle?.();
      });
  }

  private apply(event: OrderEvent): Promise<void> | void {
    const at = this.options.positionOf(event);
    if (at <= this.position) return;
    if (at === this.position + 1) return this.emit(event, at);
    return this.readLog();
  }

  /** Delivers what the log holds after the current position. */
  private async readLog(): Promise<void> {
    while (!this.closed) {
      const events = await this.options.readAfter(this.position);
      let progressed = false;
      for (const event of events) {
        const at = this.options.positionOf(event);
        if (this.closed) return;
        // The log is the truth: a version it no longer holds (pruned by retention) is not waited for.
        if (at <= this.position) continue;
        this.emit(event, at);
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  private emit(event: OrderEvent, at: number): void {
    this.position = at;
    this.options.deliver(event);
  }
}
