import type { OrderEvent } from '../domain/order.js';
import type { Store } from '../store/database.js';
import { channelPosition } from '../store/repositories/channel-offsets.js';
import { listOrderEvents, listUserChannelEvents, type UserChannelQuery } from '../store/repositories/order-events.js';

/**
 * Read-only access to the event log for the real-time gateways (history, recovery,
 * catching up), so that no protocol code ever builds a query.
 */
export class EventLogReader {
  constructor(private readonly store: Store) {}

  /** Events of one order after `afterVersion`, oldest first. */
  orderEventsAfter(orderId: string, afterVersion: number, limit: number): Promise<OrderEvent[]> {
    return listOrderEvents(this.store.db, orderId, afterVersion, limit);
  }

  userChannel(query: UserChannelQuery): Promise<OrderEvent[]> {
    return listUserChannelEvents(this.store.db, query);
  }

  userChannelPosition(projectId: string, userExternalId: string): Promise<{ offset: number; epoch: string }> {
    return channelPosition(this.store.db, projectId, userExternalId);
  }
}
