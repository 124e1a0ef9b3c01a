import { sql } from 'kysely';
import type { Executor } from '../transaction.js';

/** An order whose expected time has come, at the version that must be flagged. */
export interface DueOrder {
  id: string;
  projectId: string;
  version: number;
  dueAt: string;
}

/**
 * The due index read in order: the orders whose `due_at` is at or before `now`, earliest
 * first. An index range scan, so its cost is the orders coming due, whatever the number
 * open; `due_at` is null once flagged or final, so a flagged order leaves the range.
 */
export async function findDueOrders(db: Executor, now: string, limit: number): Promise<DueOrder[]> {
  const rows = await dueOrdersQuery(db, now, limit).execute();
  return rows.map((row) => ({ id: row.id, projectId: row.project_id, version: Number(row.version), dueAt: row.due_at as string }));
}

/** The due index's range up to `now`, earliest first (its plan is checked by test/order-timing.test.ts). */
export function dueOrdersQuery(db: Executor, now: string, limit: number) {
  return db.selectFrom('orders').select(['id', 'project_id', 'version', 'due_at']).where('due_at', '<=', now).orderBy('due_at').limit(limit);
}

/** Stuck orders per project and status (the `/metrics` gauge): an index-only read of the partial index `orders_stuck`. */
export async function countStuckOrders(db: Executor): Promise<Array<{ projectId: string; status: string; count: number }>> {
  const rows = await stuckOrdersCountQuery(db).execute();
  return rows.map((row) => ({ projectId: row.project_id, status: row.status, count: Number(row.count) }));
}

/**
 * The gauge's query (its plan is checked by test/lean-writes.test.ts). `stuck = 1` is a literal:
 * under a generic plan a parameter would not prove the partial index applies, and the
 * gauge would scan every order at each scrape.
 */
export function stuckOrdersCountQuery(db: Executor) {
  return db
    .selectFrom('orders')
    .select(['project_id', 'status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('stuck', '=', sql.lit(1))
    .groupBy(['project_id', 'status']);
}
