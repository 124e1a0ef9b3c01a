import type { Broker } from './broker.js';

/**
 * Lets a request wait for "something happened to order X" (long-polling).
 * Wake-ups come from the broker; waiters also re-read the order on a timer, so a
 * write made by another process without a shared broker is still seen.
 */
export class OrderWatchers {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;

  constructor(broker: Broker) {
    this.unsubscribe = broker.subscribe((event) => {
      const set = this.waiters.get(event.orderId);
      if (set) for (const wake of [...set]) wake();
    });
  }

  /** Resolves at the first of: a change to the order, `ms` elapsed, or abort. */
  waitOnce(orderId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(orderId);
      if (!set) this.waiters.set(orderId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(orderId) === set) this.waiters.delete(orderId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  get waitingCount(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  close(): void {
    this.unsubscribe();
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }
}
