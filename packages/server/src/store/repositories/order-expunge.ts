import { sql } from 'kysely';
import type { Executor } from '../transaction.js';

/** The personal data an expunge removes from an order as every channel shows it. */
function scrubOrder(order: Record<string, unknown>): Record<string, unknown> {
  return { ...order, userExternalId: null, metadata: {} };
}

/** Rewrites a stored JSON text whose order (at the top or under `data`) is `orderId`; undefined when there is nothing to change. */
function scrubJson(text: string, orderId: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  let next: Record<string, unknown> | undefined;
  if (record.id === orderId && record.object === 'order') next = scrubOrder(record);
  const data = record.data as Record<string, unknown> | undefined;
  if (typeof data === 'object' && data !== null && data.id === orderId && data.object === 'order') next = { ...record, data: scrubOrder(data) };
  if (!next) return undefined;
  const out = JSON.stringify(next);
  return out === text ? undefined : out;
}

export interface ExpungeCounts {
  events: number;
  deliveries: number;
}

/**
 * Wipes an order's personal data (userExternalId, metadata) from its projection, the
 * snapshots of its events, its webhook payloads (and the receivers' answers to them,
 * which may echo them) and the first answers stored for its idempotency keys.
 * Returns how many events and deliveries were rewritten. Idempotent.
 */
export async function expungeOrderData(db: Executor, projectId: string, orderId: string): Promise<ExpungeCounts> {
  await db.updateTable('orders').set({ user_external_id: null, metadata: '{}' }).where('id', '=', orderId).where('project_id', '=', projectId).execute();
  // A buyer's links to the order go with it: an expunged order is shown to no one.
  await db.deleteFrom('order_links').where('order_id', '=', orderId).where('project_id', '=', projectId).execute();

  let events = 0;
  const eventRows = await db.selectFrom('order_events').select(['seq', 'snapshot', 'user_external_id']).where('order_id', '=', orderId).execute();
  for (const row of eventRows) {
    const snapshot = scrubJson(row.snapshot, orderId);
    if (snapshot === undefined && row.user_external_id === null) continue;
    await db
      .updateTable('order_events')
      .set({ user_external_id: null, ...(snapshot === undefined ? {} : { snapshot }) })
      .where('seq', '=', row.seq)
      .execute();
    events++;
  }

  let deliveries = 0;
  const deliveryRows = await db.selectFrom('webhook_deliveries').select(['id', 'payload']).where('order_id', '=', orderId).execute();
  for (const row of deliveryRows) {
    const payload = scrubJson(row.payload, orderId);
    if (payload === undefined) continue;
    await db.updateTable('webhook_deliveries').set({ payload }).where('id', '=', row.id).execute();
    deliveries++;
  }
  if (deliveryRows.length > 0) {
    await db
      .updateTable('webhook_attempts')
      .set({ response_body: null, response_headers: null })
      .where(
        'delivery_id',
        'in',
        deliveryRows.map((row) => row.id),
      )
      .where('response_body', 'is not', null)
      .execute();
  }

  const idempotent = await db
    .selectFrom('idempotency_keys')
    .select(['key', 'response_body'])
    .where('project_id', '=', projectId)
    .where('response_body', 'like', sql<string>`${`%"id":"${orderId}"%`}`)
    .execute();
  for (const row of idempotent) {
    const body = scrubJson(row.response_body, orderId);
    if (body !== undefined)
      await db.updateTable('idempotency_keys').set({ response_body: body }).where('project_id', '=', projectId).where('key', '=', row.key).execute();
  }
  return { events, deliveries };
}

export async function recordExpunge(db: Executor, projectId: string, orderId: string, at: string, counts: ExpungeCounts): Promise<void> {
  await db
    .insertInto('order_expunges')
    .values({ project_id: projectId, order_id: orderId, expunged_at: at, events: counts.events, deliveries: counts.deliveries })
    .execute();
}
