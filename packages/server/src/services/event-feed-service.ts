import { OrdercastError } from '../domain/errors.js';
import { LOG_START, positionOf, type LogPosition, type OrderEvent } from '../domain/order.js';
import type { Waiters } from '../events/waiters.js';
import type { Store } from '../store/database.js';
import type { TenantPositions } from './tenant-position.js';

export const MAX_FEED_PAGE = 500;
export const MAX_FEED_WAIT_SECONDS = 30;

export interface FeedPage {
  events: OrderEvent[];
  /** Pass back as `after` to get what follows. */
  nextCursor: string;
}

function invalidCursor(): OrdercastError {
  return new OrdercastError('invalid_cursor', '`after` must be "latest" or a nextCursor this API returned to this project', { field: 'after' });
}

/**
 * A project's events in commit order, for followers such as `ordercast listen`. The
 * cursor is a position in the log (store/log-reading.ts), sealed per project
 * (tenant-position.ts): it never skips an event, `latest` moves only when this project
 * writes, and it tells nothing of other projects.
 * Long-polls: with `waitSeconds`, an empty page is held until the log follower sees an
 * event of the project, re-reading every second regardless.
 */
export class EventFeedService {
  constructor(
    private readonly store: Store,
    private readonly projectWaiters: Waiters,
    private readonly positions: TenantPositions,
  ) {}

  async read(projectId: string, options: { after?: string; limit?: number; waitSeconds?: number; signal?: AbortSignal }): Promise<FeedPage> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_PAGE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_FEED_PAGE}`, { field: 'limit' });
    }
    let after: LogPosition | undefined;
    if (options.after === undefined || options.after === '') after = LOG_START;
    else if (options.after === 'latest') after = await this.store.log.head(projectId);
    else after = this.positions.open(projectId, options.after);
    if (!after) throw invalidCursor();
    const deadline = Date.now() + Math.min(options.waitSeconds ?? 0, MAX_FEED_WAIT_SECONDS) * 1000;
    for (;;) {
      const events = await this.store.log.after(after, limit, projectId);
      if (events.length > 0 || Date.now() >= deadline || options.signal?.aborted) {
        const last = events[events.length - 1];
        return { events, nextCursor: this.positions.seal(projectId, last ? positionOf(last) : after) };
      }
      await this.projectWaiters.waitOnce(projectId, Math.min(1000, deadline - Date.now()), options.signal);
    }
  }

  /**
   * Where a stream resumes: a cursor this project was given (an SSE `Last-Event-ID`), or
   * the project's current end of the log. Undefined for a cursor that is not one.
   */
  async positionOf(projectId: string, cursor?: string): Promise<LogPosition | undefined> {
    if (cursor === undefined) return this.store.log.head(projectId);
    return this.positions.open(projectId, cursor);
  }

  /** The project's events after a position, oldest first, each with its own cursor. */
  async eventsAfter(projectId: string, position: LogPosition, limit: number): Promise<Array<{ event: OrderEvent; cursor: string }>> {
    const events = await this.store.log.after(position, limit, projectId);
    return events.map((event) => ({ event, cursor: this.positions.seal(projectId, positionOf(event)) }));
  }

  /** The cursor that resumes right after `event`. */
  cursorOf(event: OrderEvent): string {
    return this.positions.seal(event.projectId, positionOf(event));
  }
}
