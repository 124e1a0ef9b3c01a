import { OrdercastError } from '../domain/errors.js';
import { LOG_START, positionOf, type LogPosition, type OrderEvent } from '../domain/order.js';
import type { ChannelHub } from '../events/channel-hub.js';
import type { Store } from '../store/database.js';
import { ProjectFeedSubscription, type ProjectFeedSource } from './project-feed-subscription.js';
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
 * A project's events in commit order: `GET /events` pages (and their long-polls), and
 * the live project feed of Socket.IO `subscribe:project` and the SSE project stream.
 * The cursor is a position in the log (store/log-reading.ts), sealed per project
 * (tenant-position.ts): it never skips an event, `latest` moves only when this project
 * writes, and it tells nothing of other projects. Everything live goes through one
 * kind of subscription (ProjectFeedSubscription), fed by the hub at the log follower's
 * position: however many feeds are open, an event costs the follower's one read.
 */
export class EventFeedService {
  private readonly source: ProjectFeedSource;
  /** Each event's cursor, sealed once however many feeds it goes to. */
  private readonly cursors = new WeakMap<OrderEvent, string>();

  constructor(
    private readonly store: Store,
    private readonly positions: TenantPositions,
    hub: ChannelHub,
    followerPosition: () => LogPosition,
  ) {
    this.source = { hub, followerPosition, readAfter: (projectId, after, limit) => store.log.after(after, limit, projectId) };
  }

  /**
   * A page of events after `after`. With `waitSeconds`, an empty page is held until an
   * event of the project comes through the hub (or the wait ends), and holds what came.
   */
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
    let events = await this.store.log.after(after, limit, projectId);
    const waitMs = Math.min(options.waitSeconds ?? 0, MAX_FEED_WAIT_SECONDS) * 1000;
    if (events.length === 0 && waitMs > 0 && !options.signal?.aborted) events = await this.waitForEvents(projectId, after, limit, waitMs, options.signal);
    const last = events[events.length - 1];
    return { events, nextCursor: this.positions.seal(projectId, last ? positionOf(last) : after) };
  }

  /** Follows a project's events after `after` (its current end when undefined), each once, in commit order. */
  follow(projectId: string, after: LogPosition | undefined, deliver: (event: OrderEvent) => void, onError: (error: unknown) => void): ProjectFeedSubscription {
    return new ProjectFeedSubscription(this.source, projectId, after, deliver, onError);
  }

  /** The position a cursor (an SSE `Last-Event-ID`) stands for; undefined when it is not one this project was given. */
  openCursor(projectId: string, cursor: string): LogPosition | undefined {
    return this.positions.open(projectId, cursor);
  }

  /** The cursor that resumes right after `event`. */
  cursorOf(event: OrderEvent): string {
    let cursor = this.cursors.get(event);
    if (cursor === undefined) {
      cursor = this.positions.seal(event.projectId, positionOf(event));
      this.cursors.set(event, cursor);
    }
    return cursor;
  }

  /** A long-poll: a feed from `after`, until it has sent something (gathered for a tick, up to `limit`) or the wait ends. */
  private waitForEvents(projectId: string, after: LogPosition, limit: number, waitMs: number, signal?: AbortSignal): Promise<OrderEvent[]> {
    return new Promise((resolve) => {
      const events: OrderEvent[] = [];
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        subscription.close();
        resolve(events);
      };
      const subscription = this.follow(
        projectId,
        after,
        (event) => {
          if (events.length === limit) return finish();
          // Events of one commit batch come together: gather them for a tick before answering.
          if (events.push(event) === 1) setImmediate(finish);
        },
        finish,
      );
      const timer = setTimeout(finish, waitMs);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }
}
