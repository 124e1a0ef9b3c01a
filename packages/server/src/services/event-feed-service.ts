import { OrdercastError } from '../domain/errors.js';
import type { LogPosition, OrderEvent } from '../domain/order.js';
import type { Waiters } from '../events/waiters.js';
import type { Store } from '../store/database.js';

export const MAX_FEED_PAGE = 500;
export const MAX_FEED_WAIT_SECONDS = 30;

export interface FeedPage {
  events: OrderEvent[];
  /** Pass back as `after` to get what follows. */
  nextCursor: string;
}

/** A position as an opaque cursor; a bare number is the older form (a seq on SQLite). */
export function encodeFeedCursor(position: LogPosition): string {
  return position.txId === 0 ? String(position.seq) : `${position.txId}.${position.seq}`;
}

function parseAfter(after: string | undefined): LogPosition | 'latest' {
  if (after === undefined || after === '') return { txId: 0, seq: 0 };
  if (after === 'latest') return 'latest';
  const match = /^(?:(\d{1,19})\.)?(\d{1,15})$/.exec(after);
  if (!match) throw new OrdercastError('invalid_cursor', '`after` must be "latest" or a nextCursor this API returned', { field: 'after' });
  return { txId: Number(match[1] ?? 0), seq: Number(match[2]) };
}

/**
 * A project's events in commit order, for followers such as `ordercast listen`. The
 * cursor is a position in the project's own events (store/log-reading.ts): it never
 * skips an event, and `latest` moves only when this project writes.
 * Long-polls: with `waitSeconds`, an empty page is held until the log follower sees an
 * event of the project, re-reading every second regardless.
 */
export class EventFeedService {
  constructor(
    private readonly store: Store,
    private readonly projectWaiters: Waiters,
  ) {}

  async read(projectId: string, options: { after?: string; limit?: number; waitSeconds?: number; signal?: AbortSignal }): Promise<FeedPage> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_PAGE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_FEED_PAGE}`, { field: 'limit' });
    }
    const parsed = parseAfter(options.after);
    const after = parsed === 'latest' ? await this.store.log.head(projectId) : parsed;
    const deadline = Date.now() + Math.min(options.waitSeconds ?? 0, MAX_FEED_WAIT_SECONDS) * 1000;
    for (;;) {
      const events = await this.store.log.after(after, limit, projectId);
      if (events.length > 0 || Date.now() >= deadline || options.signal?.aborted) {
        const last = events[events.length - 1];
        return { events, nextCursor: encodeFeedCursor(last ? { txId: last.txId, seq: last.seq } : after) };
      }
      await this.projectWaiters.waitOnce(projectId, Math.min(1000, deadline - Date.now()), options.signal);
    }
  }
}
