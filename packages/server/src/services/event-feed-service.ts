import { OrdercastError } from '../domain/errors.js';
import type { OrderEvent } from '../domain/order.js';
import type { Broker } from '../events/broker.js';
import type { Store } from '../store/database.js';
import { latestEventSeq, listEventsAfterSeq } from '../store/repositories/order-events.js';

export const MAX_FEED_PAGE = 500;
export const MAX_FEED_WAIT_SECONDS = 30;

export interface FeedPage {
  events: OrderEvent[];
  /** Pass back as `after` to get what follows. */
  nextCursor: string;
}

function parseAfter(after: string | undefined): number | 'latest' {
  if (after === undefined || after === '') return 0;
  if (after === 'latest') return 'latest';
  if (!/^\d{1,15}$/.test(after)) {
    throw new OrdercastError('invalid_cursor', '`after` must be "latest" or a nextCursor this API returned', { field: 'after' });
  }
  return Number(after);
}

/**
 * A project's events in log order, for followers such as `ordercast listen`.
 * Long-polls: with `waitSeconds`, an empty page is held until an event arrives.
 * Broker messages wake it early; it re-reads the log every second regardless,
 * so events written by other processes are seen too.
 */
export class EventFeedService {
  constructor(
    private readonly store: Store,
    private readonly broker: Broker,
  ) {}

  async read(projectId: string, options: { after?: string; limit?: number; waitSeconds?: number; signal?: AbortSignal }): Promise<FeedPage> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_PAGE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_FEED_PAGE}`, { field: 'limit' });
    }
    const parsed = parseAfter(options.after);
    const after = parsed === 'latest' ? await latestEventSeq(this.store.db) : parsed;
    const deadline = Date.now() + Math.min(options.waitSeconds ?? 0, MAX_FEED_WAIT_SECONDS) * 1000;
    for (;;) {
      const events = await listEventsAfterSeq(this.store.db, after, limit, projectId);
      if (events.length > 0 || Date.now() >= deadline || options.signal?.aborted) {
        return { events, nextCursor: String(events.length > 0 ? events[events.length - 1]!.seq : after) };
      }
      await this.waitForProjectEvent(projectId, Math.min(1000, deadline - Date.now()), options.signal);
    }
  }

  private waitForProjectEvent(projectId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = this.broker.subscribe((event) => {
        if (event.projectId === projectId) done();
      });
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
