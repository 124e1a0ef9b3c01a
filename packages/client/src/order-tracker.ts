import { AbortError } from './errors.js';
import type { Order } from './types.js';

export type TransportName = 'socket' | 'sse' | 'poll' | 'none';

export interface OrderTrackerEvents {
  /** A new version of the order: never a repeat, never older than the previous one. */
  update: (order: Order) => void;
  /** The order reached a final status of its lifecycle; tracking has stopped. */
  final: (order: Order) => void;
  /** Tracking failed (not found, auth, timeout); it has stopped. Not emitted for an abort. */
  error: (error: Error) => void;
  /** Which transport currently delivers updates. */
  transport: (transport: TransportName) => void;
}

/** What `trackOrder` uses to drive a tracker; not part of the public surface. */
export interface TrackerControl {
  deliver(order: Order): void;
  setTransport(transport: TransportName): void;
  settle(outcome: { order: Order } | { error: Error; silent?: boolean }): void;
}

type Listeners = { [E in keyof OrderTrackerEvents]: Set<OrderTrackerEvents[E]> };

interface Reader {
  queue: Order[];
  waiting?: { resolve: (result: IteratorResult<Order>) => void; reject: (error: unknown) => void };
}

/**
 * The handle `trackOrder` returns: an event emitter, an async iterator of updates and a
 * promise of the final order, all fed by the same ordered stream.
 */
export class OrderTracker implements AsyncIterable<Order> {
  readonly orderId: string;
  /** Resolves with the final order; rejects with TimeoutError, AbortError, OrderNotFoundError, AuthError… */
  readonly finished: Promise<Order>;
  private latest: Order | undefined;
  private currentTransport: TransportName = 'none';
  private outcome: { order: Order } | { error: Error } | undefined;
  private readonly listeners: Listeners = { update: new Set(), final: new Set(), error: new Set(), transport: new Set() };
  private readonly readers = new Set<Reader>();
  private resolveFinished!: (order: Order) => void;
  private rejectFinished!: (error: Error) => void;

  private constructor(
    orderId: string,
    private readonly stopTracking: () => void,
  ) {
    this.orderId = orderId;
    this.finished = new Promise<Order>((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    // Callers who only listen to events must not crash Node with an unhandled rejection.
    this.finished.catch(() => undefined);
  }

  /** @internal */
  static create(orderId: string, stopTracking: () => void): { tracker: OrderTracker; control: TrackerControl } {
    const tracker = new OrderTracker(orderId, stopTracking);
    return { tracker, control: tracker.controller() };
  }

  /** The newest version seen so far. */
  get order(): Order | undefined {
    return this.latest;
  }

  get transport(): TransportName {
    return this.currentTransport;
  }

  /** True once the order is final or tracking stopped for any other reason. */
  get done(): boolean {
    return this.outcome !== undefined;
  }

  on<E extends keyof OrderTrackerEvents>(event: E, listener: OrderTrackerEvents[E]): this {
    (this.listeners[event] as Set<OrderTrackerEvents[E]>).add(listener);
    return this;
  }

  off<E extends keyof OrderTrackerEvents>(event: E, listener: OrderTrackerEvents[E]): this {
    (this.listeners[event] as Set<OrderTrackerEvents[E]>).delete(listener);
    return this;
  }

  once<E extends keyof OrderTrackerEvents>(event: E, listener: OrderTrackerEvents[E]): this {
    const wrapper = ((...args: unknown[]) => {
      this.off(event, wrapper);
      (listener as (...a: unknown[]) => void)(...args);
    }) as OrderTrackerEvents[E];
    return this.on(event, wrapper);
  }

  /** Stops tracking: closes the socket, cancels polls and timers; `finished` rejects with AbortError. */
  stop(): void {
    this.stopTracking();
  }

  /**
   * Updates in version order, ending after the final one. A reader that starts late begins
   * with the current order. Breaking out of the loop stops tracking.
   */
  [Symbol.asyncIterator](): AsyncIterator<Order> {
    const reader: Reader = { queue: this.latest ? [this.latest] : [] };
    this.readers.add(reader);
    return {
      next: () => {
        const queued = reader.queue.shift();
        if (queued) return Promise.resolve({ value: queued, done: false });
        if (this.outcome) {
          this.readers.delete(reader);
          return 'error' in this.outcome ? Promise.reject(this.outcome.error) : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => (reader.waiting = { resolve, reject }));
      },
      return: () => {
        this.readers.delete(reader);
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private emit<E extends keyof OrderTrackerEvents>(event: E, ...args: Parameters<OrderTrackerEvents[E]>): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        // A throwing listener must not break delivery to the others or the tracker itself.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private controller(): TrackerControl {
    return {
      deliver: (order) => {
        if (this.outcome) return;
        this.latest = order;
        for (const reader of this.readers) {
          if (reader.waiting) {
            reader.waiting.resolve({ value: order, done: false });
            reader.waiting = undefined;
          } else reader.queue.push(order);
        }
        this.emit('update', order);
      },
      setTransport: (transport) => {
        if (this.outcome || transport === this.currentTransport) return;
        this.currentTransport = transport;
        this.emit('transport', transport);
      },
      settle: (outcome) => {
        if (this.outcome) return;
        this.outcome = 'order' in outcome ? { order: outcome.order } : { error: outcome.error };
        this.currentTransport = 'none';
        for (const reader of this.readers) {
          if (!reader.waiting) continue;
          if ('error' in outcome) reader.waiting.reject(outcome.error);
          else reader.waiting.resolve({ value: undefined, done: true });
          reader.waiting = undefined;
          this.readers.delete(reader);
        }
        if ('order' in outcome) {
          this.resolveFinished(outcome.order);
          this.emit('final', outcome.order);
        } else {
          this.rejectFinished(outcome.error);
          if (!outcome.silent && !(outcome.error instanceof AbortError)) this.emit('error', outcome.error);
        }
      },
    };
  }
}
