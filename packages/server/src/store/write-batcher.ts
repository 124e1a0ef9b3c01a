import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { isRetryable } from './transaction.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const MAX_BATCH = 256;
const MAX_ATTEMPTS = 5;
const SAVEPOINT = CompiledQuery.raw('savepoint batch_item');
const RELEASE = CompiledQuery.raw('release batch_item');
const ROLLBACK_TO = CompiledQuery.raw('rollback to batch_item');

/**
 * Group commit for SQLite. SQLite has one writer, and each commit writes every page
 * the transaction touched (an order and an event row with their indexes: ~10 pages),
 * so committing each request alone caps throughput. Writes that queue up while a
 * batch runs share the next transaction; one failing changes nothing for the
 * others (the batch then runs again with a savepoint around each write), and every
 * caller hears back only after the shared COMMIT, so nothing is acknowledged
 * before it is durable.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private draining = false;

  constructor(private readonly db: Kysely<Database>) {}

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work: work as Work<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // SQLite calls are synchronous under Kysely's promises: without a turn of the
        // event loop between batches, a stream of writes would starve timers and
        // sockets. The pause also lets requests that just arrived join the batch.
        await new Promise((resolve) => setImmediate(resolve));
        await this.runBatch(this.queue.splice(0, MAX_BATCH));
      }
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    // First without savepoints (two statements fewer per write); if a write fails,
    // that transaction rolls back whole and the batch runs again with a savepoint
    // around each write, so the failure changes nothing for the others.
    let isolated = false;
    for (let attempt = 1; ; attempt++) {
      let outcomes: Outcome[] | 'failed';
      try {
        outcomes = await this.runInTransaction(batch, isolated);
      } catch (error) {
        // The database refused the whole batch (busy, I/O): nothing was committed, so
        // the work can run again; past the attempts, every caller hears the reason.
        if (attempt < MAX_ATTEMPTS && isRetryable(error)) {
          await new Promise((resolve) => setTimeout(resolve, attempt * 10));
          continue;
        }
        for (const item of batch) item.reject(error);
        return;
      }
      if (outcomes === 'failed') {
        isolated = true;
        attempt--;
        continue;
      }
      const settled = outcomes;
      batch.forEach((item, i) => {
        const outcome = settled[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
      return;
    }
  }

  /**
   * Runs the batch in one transaction and commits it. Without `isolated`, a failing
   * write rolls everything back: a batch of one reports its error, a larger batch
   * answers 'failed' to be run again isolated.
   */
  private async runInTransaction(batch: Pending[], isolated: boolean): Promise<Outcome[] | 'failed'> {
    const outcomes: Outcome[] = [];
    const trx = await this.db.startTransaction().execute();
    try {
      for (const item of batch) {
        if (isolated) await trx.executeQuery(SAVEPOINT);
        try {
          const value = await item.work(trx);
          if (isolated) await trx.executeQuery(RELEASE);
          outcomes.push({ ok: true, value });
        } catch (error) {
          if (!isolated) {
            await trx.rollback().execute();
            return batch.length === 1 ? [{ ok: false, error }] : 'failed';
          }
          await trx.executeQuery(ROLLBACK_TO);
          await trx.executeQuery(RELEASE);
          outcomes.push({ ok: false, error });
        }
      }
      await trx.commit().execute();
      return outcomes;
    } catch (error) {
      await trx.rollback().execute().catch(() => {});
      throw error;
    }
  }
}
