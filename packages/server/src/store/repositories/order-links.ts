import type { OrderLinksTable } from '../schema.js';
import type { Executor } from '../transaction.js';

export type OrderLinkRow = OrderLinksTable;

export async function insertOrderLink(db: Executor, row: OrderLinkRow): Promise<void> {
  await db.insertInto('order_links').values(row).execute();
}

export async function findOrderLinkByHash(db: Executor, tokenHash: string): Promise<OrderLinkRow | undefined> {
  return db.selectFrom('order_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Revokes every live link of one order; returns how many it revoked. */
export async function revokeOrderLinks(db: Executor, projectId: string, orderId: string, at: string): Promise<number> {
  const result = await db
    .updateTable('order_links')
    .set({ revoked_at: at })
    .where('project_id', '=', projectId)
    .where('order_id', '=', orderId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
