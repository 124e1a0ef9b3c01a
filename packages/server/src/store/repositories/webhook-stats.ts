import type { Executor } from '../transaction.js';

import { sql } from 'kysely';

export interface AttemptWindowStats {
  succeeded: number;
  failed: number;
  /** Milliseconds; null when there was no attempt. */
  p50: number | null;
  p99: number | null;
}

/**
 * Attempts to one endpoint since a time: how many succeeded and failed, and the
 * nearest-rank 50th and 99th percentiles of their duration. Reads only the
 * endpoint's rows in the window, through the (endpoint_id, attempted_at) index.
 */
export async function attemptStatsSince(db: Executor, endpointId: string, since: string): Promise<AttemptWindowStats> {
  const counts = await db
    .selectFrom('webhook_attempts')
    .select(['outcome', (eb) => eb.fn.countAll<number>().as('n')])
    .where('endpoint_id', '=', endpointId)
    .where('attempted_at', '>=', since)
    .groupBy('outcome')
    .execute();
  const succeeded = Number(counts.find((c) => c.outcome === 'succeeded')?.n ?? 0);
  const failed = Number(counts.find((c) => c.outcome === 'failed')?.n ?? 0);
  const total = succeeded + failed;
  const percentile = async (p: number): Promise<number | null> => {
    if (total === 0) return null;
    const offset = Math.max(0, Math.ceil(p * total) - 1);
    const row = await db
      .selectFrom('webhook_attempts')
      .select('duration_ms')
      .where('endpoint_id', '=', endpointId)
      .where('attempted_at', '>=', since)
      .orderBy('duration_ms')
      .limit(1)
      .offset(offset)
      .executeTakeFirst();
    return row ? Number(row.duration_ms) : null;
  };
  return { succeeded, failed, p50: await percentile(0.5), p99: await percentile(0.99) };
}

/** Deliveries to the endpoint created since `since` that were given up (through the partial index on failed deliveries). */
export async function givenUpSince(db: Executor, endpointId: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('endpoint_id', '=', endpointId)
    // A literal, not a parameter: SQLite uses a partial index only when it can see the value.
    .where('status', '=', sql.lit('failed'))
    .where('created_at', '>=', since)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
