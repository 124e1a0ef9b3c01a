import { ApiError, withQuery, type Api } from './api.js';
import type { FeedEvent, ListPage } from './types.js';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface FeedListener {
  /** New events of the project, oldest first. */
  events?(events: FeedEvent[]): void;
  /** The connection came back after a gap: re-read what is on screen, events may have been missed. */
  resync?(): void;
  state?(state: FeedState, detail: { attempt: number; retryInMs: number; error?: ApiError }): void;
}

const WAIT_SECONDS = 25;
const RECENT_KEPT = 200;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/** Exponential backoff with jitter, so a restarted server is not met by every tab at once. */
export function retryDelay(attempt: number): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/**
 * Follows the project's events with the public long-poll, `GET /api/v2/events`.
 * The cursor is opaque and durable: after an outage the feed resumes where it
 * stopped, and also tells listeners to re-read their views, since a list page
 * holds more than the events say (a new order may now be on another page).
 */
export class LiveFeed {
  state: FeedState = 'connecting';
  /** The newest events since sign-in, newest first, for the Events page to show on arrival. */
  recent: FeedEvent[] = [];
  private readonly listeners = new Set<FeedListener>();
  private cursor = 'latest';
  private controller = new AbortController();
  private running = false;
  private attempt = 0;
  private wakeRetry: (() => void) | undefined;

  constructor(private readonly api: Api) {}

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.controller.abort();
    this.wakeRetry?.();
    this.setState('stopped', 0);
  }

  /** Skips the wait before the next reconnection attempt (the "Retry now" button). */
  retryNow(): void {
    this.wakeRetry?.();
  }

  private setState(state: FeedState, retryInMs: number, error?: ApiError): void {
    this.state = state;
    for (const l of this.listeners) l.state?.(state, { attempt: this.attempt, retryInMs, error });
  }

  private async loop(): Promise<void> {
    let hadGap = false;
    while (this.running) {
      try {
        const page = await this.api.get<ListPage<FeedEvent> & { nextCursor: string }>(
          withQuery('/api/v2/events', { after: this.cursor, waitForChange: this.state === 'live' ? WAIT_SECONDS : 0, limit: 100 }),
          this.controller.signal,
        );
        if (!this.running) return;
        this.cursor = page.nextCursor;
        this.attempt = 0;
        if (this.state !== 'live') this.setState('live', 0);
        if (hadGap) {
          hadGap = false;
          for (const l of this.listeners) l.resync?.();
        }
        if (page.data.length > 0) {
          this.recent = [...page.data].reverse().concat(this.recent).slice(0, RECENT_KEPT);
          for (const l of this.listeners) l.events?.(page.data);
        }
      } catch (error) {
        if (!this.running) return;
        const apiError = error instanceof ApiError ? error : new ApiError(0, 'network_error', String(error));
        if (this.api.refusesCredential(apiError)) {
          // The app signs out; polling on with a dead key would only repeat the refusal.
          this.stop();
          return;
        }
        // A cursor the server no longer knows (its database was replaced): start from now.
        if (apiError.code === 'invalid_cursor') this.cursor = 'latest';
        hadGap = true;
        const delay = retryDelay(this.attempt);
        this.setState('reconnecting', delay, apiError);
        this.attempt += 1;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = undefined;
      }
    }
  }
}
