import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

export type Executor = Kysely<Database> | Transaction<Database>;

interface DriverError {
  code?: string;
  constraint?: string;
  message?: string;
}

/** PostgreSQL serialization failure or deadlock, or SQLite busy: safe to run the transaction again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as DriverError)?.code;
  return code === '40001' || code === '40P01' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

export function isUniqueViolation(error: unknown, columnHint?: string): boolean {
  const e = error as DriverError;
  const unique = e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (!unique || !columnHint) return unique;
  return `${e.constraint ?? ''} ${e.message ?? ''}`.includes(columnHint);
}

/** Runs `work` in a transaction of its own, retrying a few times when the database asks for it. */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= 5 || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 10));
    }
  }
}
