import { sql } from 'kysely';
import type { Executor } from '../transaction.js';

/**
 * One batch of each kind of pruning: a bounded index range read, then a delete or
 * update of at most `limit` rows, so the transaction around it stays short.
 */

export interface ScanResult {
  /** Rows changed. */
  changed: number;
  /** Where the next batch starts (the last seq read). */
  cursor: number;
  /** Whether the scan reached rows too young to prune (or the end): the pass is over. */
  done: boolean;
}

/** Drops the response bodies and headers of attempts made before `cutoff`, reading attempts in seq order after `cursor`. */
export async function pruneAttemptBodies(db: Executor, cursor: number, cutoff: string, limit: number): Promise<ScanResult> {
  const rows = await db
    .selectFrom('webhook_attempts')
    .select(['seq', 'attempted_at', (eb) => eb('response_body', 'is not', null).as('has_body')])
    .where('seq', '>', cursor)
    .orderBy('seq')
    .limit(limit)
    .execute();
  const old = rows.filter((row) => row.attempted_at < cutoff);
  const withBody = old.filter((row) => Boolean(Number(row.has_body))).map((row) => Number(row.seq));
  if (withBody.length > 0) {
    await db.updateTable('webhook_attempts').set({ response_body: null, response_headers: null }).where('seq', 'in', withBody).execute();
  }
  const last = old.length > 0 ? Number(old[old.length - 1]!.seq) : cursor;
  return { changed: withBody.length, cursor: last, done: old.length < rows.length || rows.length < limit };
}

/** Deletes deliveries that succeeded before `cutoff`, with their attempts. */
export async function pruneDeliveredDeliveries(db: Executor, cutoff: string, limit: number): Promise<ScanResult> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    // A literal, not a parameter: SQLite uses a partial index only when it can see the value.
    .where('status', '=', sql.lit('succeeded'))
    .where('completed_at', '<', cutoff)
    .orderBy('completed_at')
    .limit(limit)
    .execute();
  const ids = rows.map((row) => row.id);
  if (ids.length > 0) {
    await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).execute();
    await db.deleteFrom('webhook_deliveries').where('id', 'in', ids).execute();
  }
  return { changed: ids.length, cursor: 0, done: ids.length < limit };
}

/**
 * Deletes the events of orders that have not changed since before `cutoff`, reading
 * the log in seq order after `cursor`. An order's history is pruned whole or not at
 * all: an order still changing keeps every event, however old.
 */
export async function pruneOrderEvents(db: Executor, cursor: number, cutoff: string, limit: number): Promise<ScanResult> {
  const rows = await db.selectFrom('order_events').select(['seq', 'order_id', 'created_at']).where('seq', '>', cursor).orderBy('seq').limit(limit).execute();
  const old = rows.filter((row) => row.created_at < cutoff);
  let changed = 0;
  if (old.length > 0) {
    const orderIds = [...new Set(old.map((row) => row.order_id))];
    const quiet = await db.selectFrom('orders').select('id').where('id', 'in', orderIds).where('updated_at', '<', cutoff).execute();
    const prunable = new Set(quiet.map((row) => row.id));
    const seqs = old.filter((row) => prunable.has(row.order_id)).map((row) => Number(row.seq));
    if (seqs.length > 0) {
      await db.deleteFrom('order_events').where('seq', 'in', seqs).execute();
      changed = seqs.length;
    }
  }
  const last = old.length > 0 ? Number(old[old.length - 1]!.seq) : cursor;
  return { changed, cursor: last, done: old.length < rows.length || rows.length < limit };
}
