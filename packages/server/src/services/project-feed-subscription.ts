import { isAfter, positionOf, type LogPosition, type OrderEvent } from '../domain/order.js';
import { topics, type ChannelHub } from '../events/channel-hub.js';

export interface ProjectFeedSource {
  hub: ChannelHub;
  /** The log follower's position: a listener registered on the hub now gets every event after it. */
  followerPosition(): LogPosition;
  /** The project's events after a position, in commit order (catching up only). */
  readAfter(projectId: string, after: LogPosition, limit: number): Promise<OrderEvent[]>;
}

/** Events per read while catching up; a full page means there may be more. */
export const CATCH_UP_PAGE = 200;

/**
 * One subscriber's view of a project's events, in commit order, each once: the one
 * way a project feed reaches a client (Socket.IO `subscribe:project`, the SSE project
 * stream, `GET /events` long-polls). Subscribe first, read second: the listener
 * registers on the hub at the follower's position, then, when the subscriber resumes
 * from an earlier position, reads the log up to there while live events wait. After
 * that it never reads: the hub hands it every event in the follower's commit order,
 * so an event is either stale (already read while catching up, dropped) or next.
 */
export class ProjectFeedSubscription {
  private last: LogPosition;
  /** Live events that came while catching up: sent after it, those it did not read. */
  private held: OrderEvent[] | undefined;
  private readonly release: () => void;
  private closed = false;

  constructor(
    source: ProjectFeedSource,
    readonly projectId: string,
    after: LogPosition | undefined,
    private readonly deliver: (event: OrderEvent) => void,
    /** Catching up failed: the subscription is closed, and nothing after the gap was sent. */
    onError: (error: unknown) => void,
  ) {
    const live = source.followerPosition();
    this.last = after ?? live;
    this.release = source.hub.subscribe(topics.project(projectId), (event) => (this.held ? this.held.push(event) : this.offer(event)));
    // From a position the follower has not passed, the hub brings everything after it.
    if (!isAfter(live, this.last)) return;
    this.held = [];
    this.catchUp(source).then(
      () => {
        const waiting = this.held ?? [];
        this.held = undefined;
        for (const event of waiting) this.offer(event);
      },
      (error) => {
        // What it holds would skip what it could not read: it ends, and its owner says so to the client.
        this.close();
        onError(error);
      },
    );
  }

  /** The position of the last event sent (or where it started). */
  get position(): LogPosition {
    return this.last;
  }

  /** Whether it is still reading the log: events sent meanwhile are behind the live ones. */
  get catchingUp(): boolean {
    return this.held !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    this.release();
  }

  private offer(event: OrderEvent): void {
    if (this.closed || !isAfter(event, this.last)) return;
    this.last = positionOf(event);
    this.deliver(event);
  }

  private async catchUp(source: ProjectFeedSource): Promise<void> {
    for (;;) {
      const events = await source.readAfter(this.projectId, this.last, CATCH_UP_PAGE);
      if (this.closed) return;
      for (const event of events) this.offer(event);
      if (events.length < CATCH_UP_PAGE) return;
    }
  }
}
