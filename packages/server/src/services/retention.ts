import type { Logger } from '../lib/logging.js';
import type { Store } from '../store/database.js';
import { pruneAttemptBodies, pruneDeliveredDeliveries, pruneOrderEvents, type ScanResult } from '../store/repositories/retention.js';
import { inTransaction } from '../store/transaction.js';

export interface RetentionOptions {
  /** Ages in ms; 0 keeps that kind for ever. */
  attemptBodies: number;
  deliveries: number;
  events: number;
  /** Time between passes. */
  interval: number;
  /** Rows per batch: each batch is one short transaction. */
  batchSize: number;
  /** Pause between batches, so the writes queued behind one run before the next. */
  pauseMs: number;
}

export interface RetentionPass {
  attemptBodies: number;
  deliveries: number;
  events: number;
  batches: number;
  /** The longest batch of the pass (ms, from inside its transaction to its last statement; the commit follows). */
  longestBatchMs: number;
  longestBatchMsByKind: Partial<Record<Kind, number>>;
}

type Kind = 'attemptBodies' | 'deliveries' | 'events';

/**
 * Prunes what has outlived its retention in the background: the response bodies of
 * old attempts, deliveries that succeeded long ago (with their attempts), and the
 * events of orders that have not changed for long. Work is done in small batches,
 * each its own transaction, with a pause between them: on SQLite a batch holds the
 * one writer, so its length bounds how long a write can wait for it.
 */
export class RetentionService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionPass> | undefined;
  private stopped = false;
  /** Attempts only age, so their scan goes on where the last pass stopped. */
  private attemptCursor = 0;

  constructor(
    private readonly store: Store,
    private readonly options: RetentionOptions,
    private readonly logger?: Logger,
  ) {}

  get enabled(): boolean {
    return this.options.attemptBodies > 0 || this.options.deliveries > 0 || this.options.events > 0;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    this.stopped = false;
    const tick = () => {
      void this.runOnce().catch((error) => this.logger?.warn({ err: error }, 'retention pass failed; it runs again later'));
    };
    this.timer = setInterval(tick, this.options.interval);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  /** One pass over every kind; a pass already under way is joined, not doubled. */
  runOnce(now = Date.now()): Promise<RetentionPass> {
    this.running ??= this.pass(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(now: number): Promise<RetentionPass> {
    const result: RetentionPass = { attemptBodies: 0, deliveries: 0, events: 0, batches: 0, longestBatchMs: 0, longestBatchMsByKind: {} };
    const cutoff = (age: number) => new Date(now - age).toISOString();
    const { batchSize } = this.options;
    if (this.options.attemptBodies > 0) {
      const before = cutoff(this.options.attemptBodies);
      await this.batches(result, 'attemptBodies', async (db) => {
        const step = await pruneAttemptBodies(db, this.attemptCursor, before, batchSize);
        this.attemptCursor = step.cursor;
        return step;
      });
    }
    if (this.options.deliveries > 0) {
      const before = cutoff(this.options.deliveries);
      await this.batches(result, 'deliveries', (db) => pruneDeliveredDeliveries(db, before, batchSize));
    }
    if (this.options.events > 0) {
      const before = cutoff(this.options.events);
      let cursor = 0;
      await this.batches(result, 'events', async (db) => {
        const step = await pruneOrderEvents(db, cursor, before, batchSize);
        cursor = step.cursor;
        return step;
      });
    }
    if (result.attemptBodies + result.deliveries + result.events > 0) this.logger?.info({ ...result }, 'retention: old webhook data and events pruned');
    return result;
  }

  private async batches(
    result: RetentionPass,
    kind: Kind,
    batch: (db: Parameters<Parameters<typeof inTransaction>[1]>[0]) => Promise<ScanResult>,
  ): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      // Timed from inside the transaction: how long the batch holds it (on SQLite, the one writer), not how long it queued for it.
      let heldMs = 0;
      const step = await inTransaction(this.store.db, async (trx) => {
        const started = performance.now();
        const done = await batch(trx);
        heldMs = performance.now() - started;
        return done;
      });
      result.longestBatchMs = Math.max(result.longestBatchMs, heldMs);
      result.longestBatchMsByKind[kind] = Math.max(result.longestBatchMsByKind[kind] ?? 0, heldMs);
      result.batches++;
      result[kind] += step.changed;
      if (step.done) return;
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
  }
}
