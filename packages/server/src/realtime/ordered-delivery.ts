import type { OrderEvent } from '../domain/order.js';

export interface OrderedDeliveryOptions {
  /** The position of an event in this stream (order version, or channel offset). */
  positionOf(event: OrderEvent): number;
  /** Events after `position`, oldest first, from the log. */
  readAfter(position: number): Promise<OrderEvent[]>;
  deliver(event: OrderEvent): void;
  onError?(error: unknown): void;
}

/**
 * Delivers one stream (an order's versions, a user channel's offsets) to one
 * subscriber in order, exactly once: duplicates and stale events are dropped,
 * and a gap — an event that overtook another, or a broker message that never
 * came — is filled from the event log before the newer event goes out.
 *
 * Events offered before `start` wait, so nothing is lost between reading the
 * subscriber's starting point and going live.
 */
export class OrderedDelivery {
  private position = -1;
  private chain: Promise<void>;
  private begin!: () => void;
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
    if (catchUp) this.enqueue(() => this.fill(Number.MAX_SAFE_INTEGER));
    this.begin();
  }

  offer(event: OrderEvent): void {
    // The usual case, with nothing queued before it: the next event goes out at once, and
    // one already delivered is dropped, without a promise per event and subscriber.
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

  close(): void {
    this.closed = true;
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.queued++;
    this.chain = this.chain
      .then(() => (this.closed ? undefined : step()))
      .catch((error) => this.options.onError?.(error))
      .finally(() => this.queued--);
  }

  private async apply(event: OrderEvent): Promise<void> {
    const at = this.options.positionOf(event);
    if (at <= this.position) return;
    if (at > this.position + 1) await this.fill(at - 1);
    if (this.closed || at <= this.position) return;
    // The log had nothing more (it never lags a committed event): accept the jump.
    this.emit(event, at);
  }

  /** Delivers log events after the current position, up to `upTo`. */
  private async fill(upTo: number): Promise<void> {
    while (!this.closed && this.position < upTo) {
      const events = await this.options.readAfter(this.position);
      let progressed = false;
      for (const event of events) {
        const at = this.options.positionOf(event);
        if (at <= this.position) continue;
        if (at > upTo || this.closed) return;
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
