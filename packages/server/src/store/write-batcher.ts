import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { isRetryable } from './transaction.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const MAX_BATCH = 256;
const MAX_ATTEMPTS = 5;
const SAVEPOINT = CompiledQuery.raw('savepoint batch_item');
const RELEASE = CompiledQuery.raw('release batch_item');
const ROLLBACK_TO = CompiledQuery.raw('rollback to batch_item');

/**
 * Group commit for SQLite. SQLite has one writer, and each commit writes every page
 * the transaction touched (an order and an event row with their indexes: ~10 pages),
 * so committing each request alone caps throughput. Writes that queue up while a
 * batch runs share the next transaction; each runs in its own savepoint, so one
 * failing changes nothing for the others, and every caller hears back only after
 * the shared COMMIT, so nothing is acknowledged before it is durable.
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
    for (let attempt = 1; ; attempt++) {
      const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
      try {
        const trx = await this.db.startTransaction().execute();
        try {
          for (const item of batch) {
            await trx.executeQuery(SAVEPOINT);
            try {
              const value = await item.work(trx);
              await trx.executeQuery(RELEASE);
              outcomes.push({ ok: true, value });
            } catch (error) {
              await trx.executeQuery(ROLLBACK_TO);
              await trx.executeQuery(RELEASE);
              outcomes.push({ ok: false, error });
            }
          }
          await trx.commit().execute();
        } catch (error) {
          await trx.rollback().execute().catch(() => {});
          throw error;
        }
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
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
      return;
    }
  }
}
