import type { Logger } from '../lib/logging.js';
import type { Store } from '../store/database.js';
import { findDueOrders } from '../store/repositories/order-deadlines.js';
import type { OrderService } from './order-service.js';

/** Where the sweeper reads the time: injected, so tests can step it forward and back. */
export interface Clock {
  now(): number;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };

/** Orders flagged per append batch: one batch of the write path, so one transaction. */
const SWEEP_BATCH = 500;
/** Pages read in one tick at most: a backlog is worked through over ticks, never in one unbounded loop. */
const MAX_PAGES_PER_TICK = 40;

/**
 * Flags orders still in a status past their expected time (docs/timing.md). One timer per
 * process, not one per order: each tick reads the due index up to now, in order, and
 * appends `order.stuck` for what it finds through the one write path, so every channel
 * gets it from the log. Its work is the orders coming due, whatever the number open.
 *
 * Every node sweeps; exactly one `order.stuck` per order version is kept by the append's
 * compare-and-set on the version (and the log's unique (order, version)), not by a leader.
 * A process that starts after deadlines passed finds them at its first tick; a clock set
 * back flags nothing until it is right again, a clock set forward flags early, once.
 */
export class OrderTimingSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly orders: OrderService,
    private readonly options: { intervalMs: number; clock?: Clock; logger?: Logger; batchSize?: number },
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.started) return;
    this.started = true;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: flags every order due by now; returns how many it flagged. */
  async sweep(): Promise<number> {
    const clock = this.options.clock ?? { now: () => Date.now() };
    const limit = this.options.batchSize ?? SWEEP_BATCH;
    let flagged = 0;
    for (let page = 0; page < MAX_PAGES_PER_TICK; page++) {
      const due = await findDueOrders(this.store.db, new Date(clock.now()).toISOString(), limit);
      if (due.length === 0) break;
      const appended = await this.orders.flagStuck(due);
      flagged += appended.length;
      // A short page is the end of what is due; a full page that flagged nothing was all
      // flagged by another node in between (their due_at is gone now), so read again.
      if (due.length < limit || this.stopped) break;
    }
    return flagged;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then(() => undefined)
        .catch((error) => this.options.logger?.warn({ err: error }, 'timing sweep failed; it runs again at the next tick'))
        .finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
    this.timer.unref?.();
  }
}
