/**
 * Requests waiting for "something happened to X" (an order for long-polls, a project
 * for the events feed), woken by the log follower. A waiter also gives up after `ms`,
 * so a caller re-reads the database now and then whatever happens to wake-ups.
 */
export class Waiters {
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly released = new Map<string, () => void>();

  /** `follow(key)` is called when the first waiter on `key` arrives, and what it returns when the last one leaves (see Broker.follow). */
  constructor(private readonly follow?: (key: string) => () => void) {}

  /** Resolves at the first of: `notify(key)`, `ms` elapsed, or abort. */
  waitOnce(key: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(key);
      if (!set) {
        this.waiting.set(key, (set = new Set()));
        if (this.follow) this.released.set(key, this.follow(key));
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiting.get(key) === set) {
          this.waiting.delete(key);
          this.released.get(key)?.();
          this.released.delete(key);
        }
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  notify(key: string): void {
    const set = this.waiting.get(key);
    if (set) for (const wake of [...set]) wake();
  }

  /** Wakes everyone (shutdown). */
  close(): void {
    for (const set of [...this.waiting.values()]) for (const wake of [...set]) wake();
  }
}
