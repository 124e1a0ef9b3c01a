import { orderView, type OrderState } from '../../domain/order-decisions.js';
import type { Order, StatusHistoryEntry } from '../../domain/order.js';
import type { Lifecycle } from '../../domain/lifecycle.js';
import type { OrdersTable } from '../schema.js';
import { precompiled } from '../precompiled-query.js';
import type { Dialect } from '../dialect.js';
import type { Executor } from '../transaction.js';
import type BetterSqlite3 from 'better-sqlite3';
import { sql, type Selectable } from 'kysely';

export type OrderRow = Selectable<OrdersTable>;

/** The projection as the domain decides on it. */
export function rowToOrderState(row: OrderRow): OrderState {
  return {
    id: row.id,
    projectId: row.project_id,
    externalId: row.external_id,
    userExternalId: row.user_external_id,
    amount: row.amount,
    currency: row.currency,
    metadata: JSON.parse(row.metadata),
    status: row.status,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    statusHistory: JSON.parse(row.recent_history) as StatusHistoryEntry[],
    expectedBy: row.expected_by ?? null,
    eta: row.eta ?? null,
    stuck: Number(row.stuck ?? 0) === 1,
  };
}

/** The timing columns of the projection as an order state leaves them: due_at is the due index (docs/timing.md). */
export function timingColumns(state: Pick<OrderState, 'expectedBy' | 'eta' | 'stuck'>) {
  return { expected_by: state.expectedBy, eta: state.eta, stuck: state.stuck ? 1 : 0, due_at: state.stuck ? null : state.expectedBy };
}

export function rowToOrder(row: OrderRow, lifecycle: Lifecycle): Order {
  return orderView(rowToOrderState(row), lifecycle);
}

const orderById = precompiled('orderById', (db, projectId: string, id: string) =>
  db.selectFrom('orders').selectAll().where('id', '=', id).where('project_id', '=', projectId),
);

export async function findOrderRow(db: Executor, dialect: Dialect, projectId: string, id: string): Promise<OrderRow | undefined> {
  return orderById.first(db, dialect, projectId, id);
}

/**
 * findOrderRow as a prepared statement on an SQLite connection of its own: the
 * polling hot path. The SQL is the typed query above, compiled once; each read
 * then skips Kysely's builder, compiler and connection queue.
 */
export function sqliteOrderRowReader(connection: BetterSqlite3.Database): (projectId: string, id: string) => OrderRow | undefined {
  // Prepared on first use: the table does not exist until migrations have run.
  let statement: BetterSqlite3.Statement | undefined;
  return (projectId, id) => {
    const { sql, parameters } = orderById.bind('sqlite', projectId, id);
    statement ??= connection.prepare(sql);
    return statement.get(...parameters) as OrderRow | undefined;
  };
}

export interface OrderListFilter {
  projectId: string;
  /** Orders in any of these statuses. */
  statuses?: string[];
  userExternalId?: string;
  externalId?: string;
  createdAfter?: string;
  createdBefore?: string;
  /** Only orders flagged stuck (true) or not (false). */
  stuck?: boolean;
  /** Return orders older than this internal position (newest first). */
  beforeSeq?: number;
  limit: number;
}

export async function listOrderRows(db: Executor, filter: OrderListFilter): Promise<OrderRow[]> {
  return listOrderRowsQuery(db, filter).execute();
}

/** The list's query, newest first (the plans of its filters are checked by test/lean-writes.test.ts). */
export function listOrderRowsQuery(db: Executor, filter: OrderListFilter) {
  let query = db.selectFrom('orders').selectAll().where('project_id', '=', filter.projectId);
  if (filter.statuses !== undefined) query = query.where('status', 'in', filter.statuses);
  if (filter.userExternalId !== undefined) query = query.where('user_external_id', '=', filter.userExternalId);
  if (filter.externalId !== undefined) query = query.where('external_id', '=', filter.externalId);
  if (filter.createdAfter !== undefined) query = query.where('created_at', '>', filter.createdAfter);
  if (filter.createdBefore !== undefined) query = query.where('created_at', '<', filter.createdBefore);
  // A literal, not a parameter: under a generic plan only `stuck = 1` proves the partial index `orders_stuck` applies.
  if (filter.stuck !== undefined) query = query.where('stuck', '=', sql.lit(filter.stuck ? 1 : 0));
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  return query.orderBy('seq', 'desc').limit(filter.limit);
}
