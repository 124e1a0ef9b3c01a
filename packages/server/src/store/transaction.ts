import type { Kysely, Transaction } from 'kysely';
import { isConnectionError, isRetryable } from '../lib/database-errors.js';
import type { Database } from './schema.js';

export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Runs `work` in a transaction of its own, retrying a few times when the database asks for it.
 * A connection that dies before COMMIT was sent is retried once on a fresh connection: nothing of
 * the transaction can have been committed. Once COMMIT is on its way the outcome is unknown, so the
 * error goes to the caller (a 503) rather than risking the work twice.
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  let reconnected = false;
  for (let attempt = 1; ; attempt++) {
    let commitSent = false;
    try {
      return await db.transaction().execute(async (trx) => {
        const result = await work(trx);
        commitSent = true;
        return result;
      });
    } catch (error) {
      if (!commitSent && !reconnected && isConnectionError(error)) {
        reconnected = true;
        continue;
      }
      if (attempt >= 5 || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 10));
    }
  }
}
