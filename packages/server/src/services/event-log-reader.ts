import type { OrderEvent } from '../domain/order.js';
import type { Store } from '../store/database.js';
import { channelPosition } from '../store/repositories/channel-offsets.js';
import {
  latestEventSeq,
  listEventSeqsAfter,
  listEventsBySeqs,
  listOrderEvents,
  listUserChannelEvents,
  type UserChannelQuery,
} from '../store/repositories/order-events.js';

/**
 * Read-only access to the event log for the real-time gateways and the log
 * tailer, so that no protocol code ever builds a query.
 */
export class EventLogReader {
  constructor(private readonly store: Store) {}

  latestSeq(): Promise<number> {
    return latestEventSeq(this.store.db);
  }

  seqsAfter(afterSeq: number, limit: number): Promise<number[]> {
    return listEventSeqsAfter(this.store.db, afterSeq, limit);
  }

  eventsBySeqs(seqs: number[]): Promise<OrderEvent[]> {
    return listEventsBySeqs(this.store.db, seqs);
  }

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
