import type { Socket } from 'socket.io';
import { OrdercastError } from '../../domain/errors.js';
import { isAfter, positionOf, type LogPosition, type Order, type OrderEvent } from '../../domain/order.js';
import { topics } from '../../events/channel-hub.js';
import type { Metrics } from '../../metrics.js';
import type { EventFeedService } from '../../services/event-feed-service.js';
import type { ProjectFeedSubscription } from '../../services/project-feed-subscription.js';
import type { OrderService } from '../../services/order-service.js';
import type { SessionSubscriptions, SocketIoSessionRows } from '../../services/socketio-session-rows.js';
import type { TenantPositions } from '../../services/tenant-position.js';
import { answer, CLIENT_EVENTS, parseOrderRequest, type ErrorReply } from './client-requests.js';
import { NO_OFFSET, UNSETTLED_ROOM } from './live-rooms.js';
import { type MessageBudget, takeToken } from '../message-budget.js';
import { OrderSubscription, type OrderSubscriptionDeps, type SubscriptionOwner } from './order-subscription.js';
import { orderUpdateOf } from './order-update.js';
import { closeTransport, outboundBytes } from './outbound-bytes.js';
import type { RecoveredState } from './recovery-adapter.js';
import { SessionRowWriter } from '../../services/socketio-session-row-writer.js';
import { assertMayFollowProject, mayFollowProject, type SocketPrincipal } from './socketio-auth.js';

export interface SocketIoSessionDeps extends OrderSubscriptionDeps {
  orders: Pick<OrderService, 'get'>;
  metrics: Metrics;
  maxSubscriptions: number;
  messagesPerSecond: number;
  /** Bytes that may wait for a client that does not read before it is cut off (the Centrifuge gateway's 4 MiB). */
  maxBufferedBytes?: number;
  /** Seals the log position that ends an event (recovery on). */
  positions?: TenantPositions;
  /** Where each session's subscriptions are kept (recovery on), so that an event's offset is its log position. */
  rows?: SocketIoSessionRows;
  /** How long a session's row outlives its last renewal (ms). */
  rowLifetimeMs?: number;
  /** The project feed (`subscribe:project`) of a recovered session, while it catches up from the log. */
  feed: Pick<EventFeedService, 'follow'>;
  /** The log follower's position: a room joined now brings every event after it. */
  followerPosition(): LogPosition;
}

/** The event that carries a fresh recovery offset when no `order:update` does (after a subscribe, say); clients may ignore it. */
export const CHECKPOINT_EVENT = 'recovery:checkpoint';

export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * One Socket.IO connection: the orders it follows and, for a secret key, the project
 * feed. Each is a room of live-rooms.ts once in step; until then (setting up, catching
 * up from the log) it is sent to this socket alone.
 *
 * Most connections sit idle for hours, so what a session keeps is kept small:
 * one listener for every event, the deps object shared by all sessions, a token
 * bucket of two numbers, and per order in its room two numbers.
 */
export class SocketIoSession implements SubscriptionOwner {
  private readonly subscriptions = new Map<string, OrderSubscription>();
  /** A recovered project feed while it catches up (until then not in the project's room). */
  private projectFeed: ProjectFeedSubscription | undefined;
  private feedInRoom = false;
  /** Where the project feed started (kept in the session's row). */
  private feedStart: LogPosition | undefined;
  private closed = false;
  /** Subscriptions that may not have sent everything they were offered (made on the first: most sessions never have one). */
  private unsteady: Set<OrderSubscription> | undefined;
  private inUnsettledRoom = false;
  /** Keeps the session's row in step with its subscriptions (recovery on, once it has any). */
  private row: SessionRowWriter | undefined;
  /** This connection's message budget: `messagesPerSecond` sustained, twice that at once. */
  private readonly budget: MessageBudget;

  /**
   * The owner (the gateway) calls `close()` on the socket's `disconnect`. Connection
   * state recovery is on when `deps.rows` is; `restored` is what a recovered
   * connection had received.
   */
  constructor(
    private readonly socket: Socket,
    private readonly principal: SocketPrincipal,
    private readonly deps: SocketIoSessionDeps,
    restored?: RecoveredState,
  ) {
    this.budget = { tokens: deps.messagesPerSecond * 2, at: Date.now() };
    socket.onAny((event: string, ...args: unknown[]) => this.dispatch(event, args));
    if (restored) this.restore(restored);
  }

  /** Whether connection state recovery is on (the gateway passes session rows only then). */
  private get recovery(): boolean {
    return this.deps.rows !== undefined;
  }

  /** Every client event, through one listener (a listener per event would cost each idle connection a closure apiece). */
  private dispatch(event: string, args: unknown[]): void {
    const [payload, ack] = args;
    switch (event) {
      case 'subscribe:order':
        return this.guard(event, ack, () => this.subscribeOrder(payload));
      case 'unsubscribe:order':
        return this.guard(event, ack, () => this.unsubscribeOrder(payload));
      case 'subscribe:project':
        return this.guard(event, ack ?? payload, () => this.subscribeProject());
      case 'unsubscribe:project':
        return this.guard(event, ack ?? payload, () => this.unsubscribeProject());
    }
    const last = args[args.length - 1];
    const reply = { code: 'unknown_event', message: `Unknown event "${String(event).slice(0, 64)}": use ${CLIENT_EVENTS.join(', ')}` };
    if (typeof last === 'function') last(reply);
    else this.socket.emit('subscribe:error', reply);
  }

  get subscriptionCount(): number {
    return this.subscriptions.size + (this.projectFeed || this.feedInRoom ? 1 : 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const orderId of [...this.subscriptions.keys()]) this.dropSubscription(orderId);
    this.dropProjectFeed();
  }

  /**
   * The connection's credential lapsed (expired, rotated out past its grace, revoked):
   * say why in an `auth:error` event, then disconnect from the server side, which
   * tells socket.io-client not to reconnect by itself with the same credentials.
   */
  endForCredential(reason: ErrorReply): void {
    if (this.closed) return;
    this.socket.emit('auth:error', reason);
    this.close();
    this.socket.disconnect();
  }

  /** Runs a client request within the connection's message budget, and answers it (client-requests.ts). */
  private guard(event: string, ack: unknown, work: () => Promise<unknown>): void {
    const outcome = takeToken(this.budget, this.deps.messagesPerSecond)
      ? work()
      : Promise.reject(new OrdercastError('rate_limited', `Too many messages on this connection: at most ${this.deps.messagesPerSecond} per second`));
    answer(this.socket, this.deps.logger, event, ack, outcome);
  }

  /**
   * Registers the live subscription first, then reads the order: updates that
   * commit in between wait in its OrderedDelivery and go out after the ack,
   * so a client never misses a change between the ack and the first update.
   */
  private async subscribeOrder(payload: unknown) {
    const { orderId, sinceVersion } = parseOrderRequest(payload, 'subscribe:order');
    const existing = this.subscriptions.get(orderId);
    if (existing?.restoredFrom !== undefined && (sinceVersion === undefined || sinceVersion >= existing.restoredFrom)) {
      // A client that subscribes again on reconnect, after a recovery already resumed this order: everything after
      // `restoredFrom` is on its way on this socket, so a second replay would only repeat it.
      existing.restoredFrom = undefined;
      return this.deps.orders.get(this.principal.projectId, orderId, this.scope());
    }
    if (existing) this.dropSubscription(orderId);
    if (this.subscriptionCount >= this.deps.maxSubscriptions) {
      throw new OrdercastError('limit_exceeded', `At most ${this.deps.maxSubscriptions} subscriptions per connection: unsubscribe from finished orders first`, {
        limit: this.deps.maxSubscriptions,
      });
    }
    const subscription = this.follow(orderId);
    let order: Order;
    try {
      order = await this.deps.orders.get(this.principal.projectId, orderId, this.scope());
    } catch (error) {
      if (this.subscriptions.get(orderId) === subscription) this.dropSubscription(orderId);
      throw error;
    }
    if (this.subscriptions.get(orderId) !== subscription) return order;
    const replay = sinceVersion !== undefined && sinceVersion < order.version;
    subscription.startedFrom = replay ? sinceVersion : order.version;
    subscription.expect(order.version);
    this.review(subscription);
    await this.record();
    if (this.subscriptions.get(orderId) !== subscription) return order;
    // `guard` acks when this resolves, in a microtask; setImmediate runs after it, so the ack always comes first.
    setImmediate(() => {
      if (this.subscriptions.get(orderId) === subscription) subscription.start(subscription.startedFrom!, order.version);
    });
    return order;
  }

  /**
   * Registers a live subscription to one order, not yet started. (Made apart from
   * `subscribeOrder`, nothing long-lived shares a scope with the order read there.)
   */
  private follow(orderId: string, restoredFrom?: number): OrderSubscription {
    const subscription = new OrderSubscription(orderId, this, this.deps);
    if (restoredFrom !== undefined) {
      subscription.restoredFrom = restoredFrom;
      subscription.startedFrom = restoredFrom;
    }
    this.subscriptions.set(orderId, subscription);
    this.deps.metrics.realtimeSubscriptions.inc({ gateway: 'socketio' });
    this.review(subscription);
    return subscription;
  }

  private async unsubscribeOrder(payload: unknown) {
    const { orderId } = parseOrderRequest(payload, 'unsubscribe:order');
    const was = this.subscriptions.has(orderId);
    this.dropSubscription(orderId);
    if (was) await this.record();
    return { orderId, unsubscribed: was };
  }

  private async subscribeProject() {
    assertMayFollowProject(this.principal);
    if (!this.projectFeed && !this.feedInRoom) {
      // The room brings every event after the follower's position, read at the same moment.
      this.feedStart = this.deps.followerPosition();
      this.enter(topics.project(this.principal.projectId));
      this.feedInRoom = true;
      this.deps.metrics.realtimeSubscriptions.inc({ gateway: 'socketio' });
      await this.record();
    }
    return { projectId: this.principal.projectId, subscribed: true };
  }

  /**
   * A recovered connection's project feed: what the log holds after `resumeAfter`, then
   * live events, sent to this socket alone until the first live one, after which the
   * project's room brings them.
   */
  private followProject(resumeAfter: LogPosition): void {
    const feed = this.deps.feed.follow(
      this.principal.projectId,
      resumeAfter,
      (event) => {
        const live = !feed.catchingUp;
        this.send(event, live);
        // After the rest of this event's round of the hub (which may include the project's room): the room brings the next.
        if (live) queueMicrotask(() => this.feedToRoom(feed));
      },
      (error) => {
        // Catching up failed, and the feed ended there: the client reconnects and recovers from its offset.
        this.deps.logger.warn({ err: error }, 'socket.io: resuming the project feed from the log failed; closing the transport');
        this.cutOff();
      },
    );
    this.projectFeed = feed;
    this.feedStart = feed.position;
    this.deps.metrics.realtimeSubscriptions.inc({ gateway: 'socketio' });
  }

  private feedToRoom(feed: ProjectFeedSubscription): void {
    if (this.projectFeed !== feed || this.closed) return;
    this.enter(topics.project(this.principal.projectId));
    this.feedInRoom = true;
    this.projectFeed = undefined;
    feed.close();
    this.updateRoom();
  }

  private async unsubscribeProject() {
    if (this.projectFeed || this.feedInRoom) {
      this.dropProjectFeed();
      await this.record();
    }
    return { projectId: this.principal.projectId, unsubscribed: true };
  }

  private dropProjectFeed(): void {
    if (!this.projectFeed && !this.feedInRoom) return;
    this.projectFeed?.close();
    this.projectFeed = undefined;
    if (this.feedInRoom) this.socket.leave(topics.project(this.principal.projectId));
    this.feedInRoom = false;
    this.feedStart = undefined;
    this.deps.metrics.realtimeSubscriptions.dec({ gateway: 'socketio' });
    this.updateRoom();
  }

  private dropSubscription(orderId: string): void {
    const subscription = this.subscriptions.get(orderId);
    if (!subscription) return;
    this.subscriptions.delete(orderId);
    this.unsteady?.delete(subscription);
    if (subscription.inRoom) this.socket.leave(topics.order(orderId));
    subscription.close();
    this.deps.metrics.realtimeSubscriptions.dec({ gateway: 'socketio' });
    this.updateRoom();
  }

  /**
   * Closes the transport, dropping what is queued (a client that does not read its
   * socket, a resumed feed that failed): socket.io-client sees "transport close",
   * reconnects by itself and recovers, or catches up from the log with `sinceVersion`.
   */
  private cutOff(): void {
    this.close();
    closeTransport(this.socket);
  }

  private scope() {
    return this.principal.kind === 'user' ? { userExternalId: this.principal.userExternalId } : {};
  }

  /**
   * Whether a packet may be written to this client: false once it is closed, or when
   * it does not read and its buffers passed the cap (it is then cut off), or when it is
   * an order room's `broadcast` of a version it was sent before it joined the room.
   * Every packet to this socket, through a room or alone, is checked here (the adapter's `apply`).
   */
  admits(broadcast?: OrderEvent): boolean {
    if (this.closed) return false;
    if (broadcast && this.subscriptions.get(broadcast.orderId)?.admits(broadcast) === false) return false;
    if (outboundBytes(this.socket) <= (this.deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)) return true;
    this.deps.logger.warn(
      { socketId: this.socket.id, projectId: this.principal.projectId },
      'socket.io: closing a connection that does not read (over the buffer cap)',
    );
    this.cutOff();
    return false;
  }

  /** Sends one update to this client alone; one read from the log may be ahead of the follower, so only a live one ends with its position. */
  send(event: OrderEvent, live: boolean): void {
    if (!this.admits()) return;
    const update = orderUpdateOf(event);
    if (this.recovery && this.deps.positions) {
      const offset = live && this.settled() ? this.deps.positions.seal(event.projectId, positionOf(event)) : NO_OFFSET;
      this.socket.emit('order:update', update, offset);
    } else this.socket.emit('order:update', update);
    this.deps.metrics.messageSent('socketio', event.createdAt);
  }

  enter(topic: string): void {
    // A closed session's socket is gone or going: joining would leave its id in the room.
    if (!this.closed) this.deps.rooms.join(this.socket, topic);
  }

  review(subscription: OrderSubscription): void {
    if (!this.recovery) return;
    if (subscription.inStep || !this.subscriptions.has(subscription.orderId)) this.unsteady?.delete(subscription);
    else (this.unsteady ??= new Set()).add(subscription);
    this.updateRoom();
  }

  /**
   * Whether a log position this client is sent says exactly what it has: its row holds
   * its subscriptions as they are, and each of them has sent everything up to the
   * follower's position (in its room, or in step before it). Recovery from the row and
   * such a position gives every event after it and none before.
   */
  private settled(): boolean {
    if (this.row?.current !== true || this.projectFeed?.catchingUp) return false;
    for (const subscription of this.unsteady ?? []) {
      if (!subscription.inStep) return false;
      this.unsteady!.delete(subscription);
    }
    this.unsteady = undefined;
    return true;
  }

  /** Puts the socket in UNSETTLED_ROOM while it is not settled, so that room broadcasts end with no position for it. */
  private updateRoom(): void {
    if (!this.recovery || this.closed) return;
    const unsettled = this.subscriptionCount > 0 && !this.settled();
    if (unsettled === this.inUnsettledRoom) return;
    this.inUnsettledRoom = unsettled;
    if (unsettled) this.socket.join(UNSETTLED_ROOM);
    else this.socket.leave(UNSETTLED_ROOM);
  }

  /**
   * Writes the session's row, then sends the offset that recovers the session as it now
   * is (before the ack: a client that saw the ack can recover the change it asked for).
   */
  private async record(): Promise<void> {
    if (!this.recovery || this.closed) return;
    await this.persist();
    if (this.closed || !this.deps.positions) return;
    const at = this.settled() ? this.positionHeld() : undefined;
    this.socket.emit(CHECKPOINT_EVENT, at ? this.deps.positions.seal(this.principal.projectId, at) : NO_OFFSET);
  }

  /**
   * Where a settled client stands: the newest position of an event of what it follows
   * that came through the hub (it has all of them, and the follower has passed it). It
   * moves only with this session's own orders (or, for a secret key's feed, project).
   */
  private positionHeld(): LogPosition | undefined {
    const feed = this.projectFeed;
    // A resumed feed may have read ahead of the follower: not a place to recover from yet.
    if (feed && isAfter(feed.position, this.deps.followerPosition())) return undefined;
    const followed = [...this.subscriptions.keys()].map(topics.order);
    if (this.feedInRoom) followed.push(topics.project(this.principal.projectId));
    return this.deps.rooms.newest(followed, feed?.position);
  }

  /** Writes the session's subscriptions to its row (the writer is made on the first change: idle connections keep none). */
  private async persist(): Promise<boolean> {
    const rows = this.deps.rows;
    if (!this.recovery || !rows || this.closed) return false;
    if (!this.row) {
      const pid = (this.socket as unknown as { pid: string }).pid;
      const { kind, projectId } = this.principal;
      const actor = this.principal.kind === 'user' ? { projectId, kind, userExternalId: this.principal.userExternalId } : { projectId, kind };
      this.row = new SessionRowWriter(rows, pid, actor, this.deps.rowLifetimeMs ?? 0, this.deps.logger, () => this.rowSnapshot());
    }
    const written = await this.row.write();
    this.updateRoom();
    return written;
  }

  private rowSnapshot(): SessionSubscriptions | undefined {
    if (this.closed || !this.recovery) return undefined;
    const orders: Array<[string, number]> = [];
    for (const [orderId, subscription] of this.subscriptions) {
      if (subscription.startedFrom !== undefined) orders.push([orderId, subscription.startedFrom]);
    }
    return { orders, ...(this.feedStart ? { feed: this.feedStart } : {}) };
  }

  /** The session's row key when its row is current (its expiry is renewed while connected); retries a failed write. */
  rowToRenew(): string | undefined {
    if (this.closed || !this.recovery || !this.row?.renewable()) return undefined;
    return this.row.sessionId;
  }

  /**
   * Resumes a recovered connection: each order it followed, from the version it had
   * received, if the credential still reads that order; the log fills the gap.
   */
  private restore(restored: RecoveredState): void {
    for (const [orderId, version] of restored.orders.slice(0, this.deps.maxSubscriptions)) {
      const subscription = this.follow(orderId, version);
      this.deps.orders.get(this.principal.projectId, orderId, this.scope()).then(
        (order) => {
          if (this.subscriptions.get(orderId) === subscription) subscription.start(version, Math.max(version, order.version));
        },
        () => {
          // The credential no longer reads this order: it is not resumed.
          if (this.subscriptions.get(orderId) !== subscription) return;
          this.dropSubscription(orderId);
          void this.persist();
        },
      );
    }
    if (restored.feed && mayFollowProject(this.principal)) this.followProject(restored.feed);
    // This connection now owns the session's row.
    void this.persist();
  }
}
