import type { Order, StatusHistoryEntry } from '../../domain/order.js';
import type { Lifecycle } from '../../domain/lifecycle.js';
import type { OrdersTable } from '../schema.js';
import { precompiled } from '../precompiled-query.js';
import type { Executor } from '../transaction.js';
import type BetterSqlite3 from 'better-sqlite3';
import type { Selectable } from 'kysely';

export type OrderRow = Selectable<OrdersTable>;

export function rowToOrder(row: OrderRow, lifecycle: Lifecycle): Order {
  return {
    id: row.id,
    object: 'order',
    projectId: row.project_id,
    externalId: row.external_id,
    userExternalId: row.user_external_id,
    amount: row.amount,
    currency: row.currency,
    metadata: JSON.parse(row.metadata),
    status: row.status,
    version: row.version,
    final: lifecycle.final.includes(row.status),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    statusHistory: JSON.parse(row.history) as StatusHistoryEntry[],
  };
}

export type NewOrderRow = Pick<Order, 'id' | 'projectId' | 'externalId' | 'userExternalId' | 'amount' | 'currency' | 'metadata' | 'status'> & {
  history: StatusHistoryEntry[];
  createdAt: string;
};

const insertOrderRow = precompiled(
  (
    db: Executor,
    id: string,
    projectId: string,
    externalId: string | null,
    userExternalId: string | null,
    amount: string | null,
    currency: string | null,
    metadata: string,
    status: string,
    history: string,
    createdAt: string,
  ) =>
    db
      .insertInto('orders')
      .values({
        id,
        project_id: projectId,
        external_id: externalId,
        user_external_id: userExternalId,
        amount,
        currency,
        metadata,
        status,
        version: 1,
        history,
        created_at: createdAt,
        updated_at: createdAt,
      })
      .returningAll(),
);

export async function insertOrder(db: Executor, order: NewOrderRow): Promise<OrderRow> {
  return insertOrderRow.firstOrThrow(
    db,
    order.id,
    order.projectId,
    order.externalId,
    order.userExternalId,
    order.amount,
    order.currency,
    JSON.stringify(order.metadata),
    order.status,
    JSON.stringify(order.history),
    order.createdAt,
  );
}

function orderByIdQuery(db: Executor, projectId: string, id: string) {
  return db.selectFrom('orders').selectAll().where('id', '=', id).where('project_id', '=', projectId);
}

const orderById = precompiled(orderByIdQuery);

export async function findOrderRow(db: Executor, projectId: string, id: string): Promise<OrderRow | undefined> {
  return orderById.first(db, projectId, id);
}

/**
 * findOrderRow as a prepared statement on an SQLite connection of its own: the
 * polling hot path. The SQL is the typed query above, compiled once; each read
 * then skips Kysely's builder, compiler and connection queue.
 */
export function sqliteOrderRowReader(db: Executor, connection: BetterSqlite3.Database): (projectId: string, id: string) => OrderRow | undefined {
  // Prepared on first use: the table does not exist until migrations have run.
  let statement: BetterSqlite3.Statement | undefined;
  return (projectId, id) => {
    const { sql, parameters } = orderById.bind(db, projectId, id);
    statement ??= connection.prepare(sql);
    return statement.get(...parameters) as OrderRow | undefined;
  };
}

export async function findOrderRowByExternalId(db: Executor, projectId: string, externalId: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('project_id', '=', projectId).where('external_id', '=', externalId).executeTakeFirst();
}

/**
 * Moves the order to its next version only if nobody else did first
 * (compare-and-set on `version`); returns undefined when another writer won.
 */
const setStatusIfVersion = precompiled(
  (db: Executor, id: string, expectedVersion: number, nextVersion: number, status: string, history: string, updatedAt: string) =>
    db
      .updateTable('orders')
      .set({ status, version: nextVersion, history, updated_at: updatedAt })
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .returningAll(),
);

export async function updateOrderStatusIfVersion(
  db: Executor,
  id: string,
  expectedVersion: number,
  change: { status: string; history: StatusHistoryEntry[]; updatedAt: string },
): Promise<OrderRow | undefined> {
  return setStatusIfVersion.first(db, id, expectedVersion, expectedVersion + 1, change.status, JSON.stringify(change.history), change.updatedAt);
}

export interface OrderListFilter {
  projectId: string;
  status?: string;
  userExternalId?: string;
  externalId?: string;
  createdAfter?: string;
  createdBefore?: string;
  /** Return orders older than this internal position (newest first). */
  beforeSeq?: number;
  limit: number;
}

export async function listOrderRows(db: Executor, filter: OrderListFilter): Promise<OrderRow[]> {
  let query = db.selectFrom('orders').selectAll().where('project_id', '=', filter.projectId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.userExternalId !== undefined) query = query.where('user_external_id', '=', filter.userExternalId);
  if (filter.externalId !== undefined) query = query.where('external_id', '=', filter.externalId);
  if (filter.createdAfter !== undefined) query = query.where('created_at', '>', filter.createdAfter);
  if (filter.createdBefore !== undefined) query = query.where('created_at', '<', filter.createdBefore);
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  return query.orderBy('seq', 'desc').limit(filter.limit).execute();
}
