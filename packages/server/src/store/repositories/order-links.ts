import type { OrderLinksTable } from '../schema.js';
import type { Executor } from '../transaction.js';

export type OrderLinkRow = OrderLinksTable;

/** A link with whether its project is disabled now (a disabled project's links stop, like its keys). */
export type OrderLinkLookup = OrderLinkRow & { project_disabled_at: string | null };

export async function insertOrderLink(db: Executor, row: OrderLinkRow): Promise<void> {
  await db.insertInto('order_links').values(row).execute();
}

export async function findOrderLinkByHash(db: Executor, tokenHash: string): Promise<OrderLinkLookup | undefined> {
  return db
    .selectFrom('order_links')
    .innerJoin('projects', 'projects.id', 'order_links.project_id')
    .selectAll('order_links')
    .select('projects.disabled_at as project_disabled_at')
    .where('order_links.token_hash', '=', tokenHash)
    .executeTakeFirst();
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

/** Of these links, the ones that no longer hold now (revoked, expired, or gone with an expunged order), with why. */
export async function findLapsedLinks(db: Executor, ids: readonly string[], now: string): Promise<Map<string, 'order_link_revoked' | 'order_link_expired'>> {
  const lapsed = new Map<string, 'order_link_revoked' | 'order_link_expired'>();
  if (ids.length === 0) return lapsed;
  const rows = await db
    .selectFrom('order_links')
    .select(['id', 'revoked_at', 'expires_at'])
    .where('id', 'in', [...ids])
    .execute();
  const found = new Set(rows.map((row) => row.id));
  for (const row of rows) {
    if (row.revoked_at !== null) lapsed.set(row.id, 'order_link_revoked');
    else if (row.expires_at <= now) lapsed.set(row.id, 'order_link_expired');
  }
  for (const id of ids) if (!found.has(id)) lapsed.set(id, 'order_link_revoked');
  return lapsed;
}
