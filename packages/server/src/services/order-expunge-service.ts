import { OrdercastError } from '../domain/errors.js';
import type { Store } from '../store/database.js';
import { expungeOrderData, recordExpunge } from '../store/repositories/order-expunge.js';
import { findOrderRow } from '../store/repositories/orders.js';
import { inTransaction } from '../store/transaction.js';
import type { OrderReadCache } from './order-read-cache.js';

export interface ExpungeResult {
  object: 'order_expunge';
  orderId: string;
  expungedAt: string;
  /** Events whose snapshot (and user) was wiped. */
  events: number;
  /** Webhook deliveries whose stored payload was wiped. */
  deliveries: number;
}

/**
 * Erases an order's personal data on request (a data-protection erasure), keeping the
 * order, its statuses and its history: the log stays whole for every reader, only the
 * fields that identify a person are emptied. Each expunge is recorded.
 */
export class OrderExpungeService {
  constructor(
    private readonly store: Store,
    /** Polls answered from memory must not serve the wiped data: this process forgets it at once, others within the cache's age limit. */
    private readonly readCache?: OrderReadCache,
  ) {}

  async expunge(projectId: string, orderId: string): Promise<ExpungeResult> {
    const expungedAt = new Date().toISOString();
    const counts = await inTransaction(this.store.db, async (trx) => {
      const row = await findOrderRow(trx, this.store.dialect, projectId, orderId);
      if (!row) throw new OrdercastError('order_not_found', `No order ${orderId}`, { orderId });
      const counts = await expungeOrderData(trx, projectId, orderId);
      await recordExpunge(trx, projectId, orderId, expungedAt, counts);
      return counts;
    });
    // On PostgreSQL a transition decided before this expunge may commit after it, with the
    // old data in its snapshot: a second pass, after the commit, wipes that too.
    const late = await inTransaction(this.store.db, (trx) => expungeOrderData(trx, projectId, orderId));
    this.readCache?.forget(orderId);
    return { object: 'order_expunge', orderId, expungedAt, events: counts.events + late.events, deliveries: counts.deliveries + late.deliveries };
  }
}
