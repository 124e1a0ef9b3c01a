import type { LogPosition, OrderEvent } from '../domain/order.js';
import type { Store } from '../store/database.js';
import { channelPosition } from '../store/repositories/channel-offsets.js';
import { listOrderEvents, listUserChannelEvents, type UserChannelQuery } from '../store/repositories/order-events.js';

/**
 * Read-only access to the event log for the real-time gateways (history, recovery,
 * gap filling), so that no protocol code ever builds a query.
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

  /** A project's events after a log position, in commit order (a recovered project feed). */
  projectEventsAfter(projectId: string, after: LogPosition, limit: number): Promise<OrderEvent[]> {
    return this.store.log.after(after, limit, projectId);
  }

  /** The log position of a project's latest event. */
  projectHead(projectId: string): Promise<LogPosition> {
    return this.store.log.head(projectId);
  }
}
