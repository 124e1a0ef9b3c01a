import type { Executor } from '../transaction.js';

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

