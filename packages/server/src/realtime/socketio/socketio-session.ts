import type { Socket } from 'socket.io';
import { OrdercastError } from '../../domain/errors.js';
import { LOG_START, isAfter, positionOf, type LogPosition, type Order, type OrderEvent } from '../../domain/order.js';
import type { Logger } from '../../lib/logging.js';
import type { Metrics } from '../../metrics.js';
import type { EventFeedService } from '../../services/event-feed-service.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import type { ProjectFeedSubscription } from '../../services/project-feed-subscription.js';
import type { OrderService } from '../../services/order-service.js';
import { SocketIoSessionRows } from '../../services/socketio-session-rows.js';
import type { TenantPositions } from '../../services/tenant-position.js';
import type { ChannelHub } from '../../events/channel-hub.js';
import { answer, type ErrorReply } from './client-replies.js';
import { CLIENT_EVENTS, parseOrderRequest } from './order-request.js';
import { OrderSubscription, type SubscriptionOwner } from './order-subscription.js';
import { encodedUpdate, encodedUpdateWithOffset } from './encoded-update.js';
import { OutboundBytes } from './outbound-bytes.js';
import type { RecoveredState } from './recovery-adapter.js';
import { SessionRowWriter, type SessionRowSnapshot } from './session-row-writer.js';
import type { SocketPrincipal } from './socketio-auth.js';

export interface SocketIoSessionDeps {
  orders: Pick<OrderService, 'get'>;
  reader: EventLogReader;
  hub: ChannelHub;
  metrics: Metrics;
  logger: Logger;
  maxSubscriptions: number;
  messagesPerSecond: number;
  /** Bytes that may wait for a client that does not read before it is cut off (the Centrifuge gateway's 4 MiB). */
  maxBufferedBytes?: number;
  /** Seals the log position that ends an event for every socket of its project. */
  positions?: TenantPositions;
  /** Where each session's subscriptions are kept (recovery on), so that an event's offset is its log position. */
  rows?: SocketIoSessionRows;
  /** How long a session's row outlives its last renewal (ms). */
  rowLifetimeMs?: number;
  /** The project feed (`subscribe:project`), fed by the hub at the log follower's position. */
  feed: Pick<EventFeedService, 'follow'>;
}

/** Connection state recovery for one session (on): what a recovered connection had received. */
export interface SessionRecovery {
  restored?: RecoveredState;
}

/** The event that carries a fresh recovery offset when no `order:update` does (after a subscribe, say); clients may ignore it. */
export const CHECKPOINT_EVENT = 'recovery:checkpoint';

/**
 * The offset that ends an event when no log position says exactly what the client has:
 * it opens to nothing, so a reconnect from it starts a new session rather than recover
 * to the wrong place (socket.io-client keeps the last string that ended an event).
 */
const NO_OFFSET = '';

export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * One Socket.IO connection: its order subscriptions, each an OrderedDelivery
 * from the hub, and an optional project-wide feed for secret keys.
 *
 * Most connections sit idle for hours, so what a session keeps is kept small:
 * one listener for every event, the deps object shared by all sessions, a token
 * bucket of two numbers, and closures that capture an order id but never the
 * order read at subscribe time.
 */
export class SocketIoSession implements SubscriptionOwner {
  private readonly subscriptions = new Map<string, OrderSubscription>();
  private projectFeed: ProjectFeedSubscription | undefined;
  private closed = false;
  private outbound: OutboundBytes | undefined;
  /** Where the project feed started (kept in the session's row). */
  private feedStart: LogPosition | undefined;
  /** The furthest log position of an event sent to this client. */
  private sentUpTo: LogPosition = LOG_START;
  /** Subscriptions that may not have sent everything they were offered. */
  private readonly unsettled = new Set<OrderSubscription>();
  /** Keeps the session's row in step with its subscriptions (recovery on, once it has any). */
  private row: SessionRowWriter | undefined;
  /** The row's key (the hash of the session's pid), made with the row. */
  private rowKey: string | undefined;
  private readonly connectedAt = Date.now();
  /** This connection's message budget: `messagesPerSecond` sustained, twice that at once. */
  private tokens: number;
  private tokensAt = Date.now();

  /** The owner (the gateway) calls `close()` on the socket's `disconnect`. */
  constructor(
    private readonly socket: Socket,
    private readonly principal: SocketPrincipal,
    private readonly deps: SocketIoSessionDeps,
    private readonly recovery?: SessionRecovery,
  ) {
    this.tokens = deps.messagesPerSecond * 2;
    socket.onAny((event: string, ...args: unknown[]) => this.dispatch(event, args));
    const restored = recovery?.restored;
    if (restored) this.restore(restored);
  }

  /** Whether events end with offsets (recovery on): subscriptions then note what they were offered. */
  get tracksOffsets(): boolean {
    return this.recovery !== undefined;
  }

  unsettle(subscription: OrderSubscription): void {
    this.unsettled.add(subscription);
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

  /** Takes one message from the connection's budget; false when it is spent. */
  private takeToken(): boolean {
    const rate = this.deps.messagesPerSecond;
    if (rate <= 0) return true;
    const now = Date.now();
    this.tokens = Math.min(rate * 2, this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size + (this.projectFeed ? 1 : 0);
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

  /** Runs a client request within the connection's message budget, and answers it (client-replies.ts). */
  private guard(event: string, ack: unknown, work: () => Promise<unknown>): void {
    const outcome = this.takeToken()
      ? work()
      : Promise.reject(new OrdercastError('rate_limited', `Too many messages on this connection: at most ${this.deps.messagesPerSecond} per second`));
    answer(this.socket, this.deps.logger, event, ack, outcome);
  }

  /**
   * Registers the live subscription first, then reads the order: updates that
   * commit in between wait in the OrderedDelivery and go out after the ack,
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
    if (this.recovery) this.unsettled.add(subscription);
    this.deps.metrics.realtimeSubscriptions.inc({ gateway: 'socketio' });
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
    if (this.principal.kind !== 'secret') {
      throw new OrdercastError('forbidden', 'Only a secret key may follow every order of the project; a user token follows its own orders');
    }
    if (!this.projectFeed) {
      this.followProject();
      await this.record();
    }
    return { projectId: this.principal.projectId, subscribed: true };
  }

  /**
   * Follows the project's events, from the hub at the follower's position; a recovered
   * connection (`resumeAfter`) first reads what the log holds after that position.
   */
  private followProject(resumeAfter?: LogPosition): void {
    const feed = this.deps.feed.follow(
      this.principal.projectId,
      resumeAfter,
      (event) => this.send(event),
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

  private async unsubscribeProject() {
    if (this.projectFeed) {
      this.dropProjectFeed();
      await this.record();
    }
    return { projectId: this.principal.projectId, unsubscribed: true };
  }

  private dropProjectFeed(): void {
    if (!this.projectFeed) return;
    this.projectFeed.close();
    this.projectFeed = undefined;
    this.feedStart = undefined;
    this.deps.metrics.realtimeSubscriptions.dec({ gateway: 'socketio' });
  }

  private dropSubscription(orderId: string): void {
    const subscription = this.subscriptions.get(orderId);
    if (!subscription) return;
    this.subscriptions.delete(orderId);
    this.unsettled.delete(subscription);
    subscription.unsubscribe();
    subscription.delivery.close();
    this.deps.metrics.realtimeSubscriptions.dec({ gateway: 'socketio' });
  }

  /**
   * A client that does not read its socket: stop buffering for it and close the
   * transport, dropping what is queued. socket.io-client sees "transport close",
   * reconnects by itself and catches up from the log with `sinceVersion`.
   */
  private cutOffSlowClient(): void {
    this.deps.logger.warn(
      { socketId: this.socket.id, projectId: this.principal.projectId },
      'socket.io: closing a connection that does not read (over the buffer cap)',
    );
    this.cutOff();
  }

  /** Closes the transport, dropping what is queued: the client reconnects by itself (and recovers). */
  private cutOff(): void {
    this.close();
    const conn = this.socket.conn as unknown as { close(discard?: boolean): void; transport?: { socket?: { terminate?: () => void } } };
    const ws = conn.transport?.socket;
    conn.close(true);
    // A WebSocket's close handshake would wait for the peer that does not read: drop it now, and its buffers with it.
    ws?.terminate?.();
  }

  private scope() {
    return this.principal.kind === 'user' ? { userExternalId: this.principal.userExternalId } : {};
  }

  /** Sends one update to this client (its subscriptions call this). */
  send(event: OrderEvent): void {
    if (this.closed) return;
    this.outbound ??= new OutboundBytes(this.socket);
    if (this.outbound.get() > (this.deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)) return this.cutOffSlowClient();
    // Written as socket.io would write `socket.emit('order:update', update, offset)`: the whole packet
    // encoded once for every socket when the offset is the event's log position, else only the update.
    const conn = this.socket.conn;
    if (conn.readyState !== 'open') return;
    conn.write(this.recovery ? this.packetWithOffset(event) : encodedUpdate(event, this.socket.nsp.name));
    this.deps.metrics.messageSent('socketio', event.createdAt);
  }

  /**
   * The event's log position says exactly what this client has when (1) the session's row
   * holds its subscriptions as they are, (2) nothing sent to it came later in the log, and
   * (3) nothing of what it follows that came earlier is still to be sent. Then recovery
   * from the row and the position gives every event after it and none before, and the
   * packet, the same for every socket of the project, is encoded once. Otherwise
   * (catching up from the log, a subscription being set up, a row not yet written, events
   * of a batch that go out of log order) the event ends with no position: a drop then
   * gives a new session, never a recovery to the wrong place.
   */
  private packetWithOffset(event: OrderEvent): string {
    const at = positionOf(event);
    const shared = !isAfter(this.sentUpTo, at) && this.exactAt(at);
    if (isAfter(at, this.sentUpTo)) this.sentUpTo = at;
    if (shared) return encodedUpdateWithOffset(event, this.socket.nsp.name, (e) => this.deps.positions!.seal(e.projectId, positionOf(e)));
    return encodedUpdate(event, this.socket.nsp.name, NO_OFFSET);
  }

  /** Whether recovery from `position` and the session's row would give exactly what this client is still to get. */
  private exactAt(position: LogPosition): boolean {
    if (this.deps.positions === undefined || this.row?.current !== true) return false;
    if (this.projectFeed?.catchingUp) return false;
    for (const subscription of this.unsettled) {
      const standing = subscription.standingAt(position);
      if (standing === 'behind') return false;
      if (standing === 'settled') this.unsettled.delete(subscription);
    }
    return true;
  }

  /**
   * Writes the session's row, then sends the offset that recovers the session as it now
   * is (before the ack: a client that saw the ack can recover the change it asked for).
   */
  private async record(): Promise<void> {
    if (!this.recovery || this.closed) return;
    await this.persist();
    if (this.closed) return;
    const at = this.sentUpTo;
    this.socket.emit(CHECKPOINT_EVENT, this.exactAt(at) ? this.deps.positions!.seal(this.principal.projectId, at) : NO_OFFSET);
  }

  /** Writes the session's subscriptions to its row (the writer is made on the first change: idle connections keep none). */
  private persist(): Promise<boolean> {
    const rows = this.deps.rows;
    if (!this.recovery || !rows || this.closed) return Promise.resolve(false);
    if (!this.row) {
      this.rowKey = SocketIoSessionRows.idOf((this.socket as unknown as { pid: string }).pid);
      this.row = new SessionRowWriter(rows, this.deps.rowLifetimeMs ?? 0, this.deps.logger, () => this.rowSnapshot());
    }
    return this.row.write();
  }

  private rowSnapshot(): SessionRowSnapshot | undefined {
    if (this.closed || !this.recovery || !this.rowKey) return undefined;
    const orders: Array<[string, number]> = [];
    for (const [orderId, subscription] of this.subscriptions) {
      if (subscription.startedFrom !== undefined) orders.push([orderId, subscription.startedFrom]);
    }
    const { principal } = this;
    return {
      sessionId: this.rowKey,
      actor:
        principal.kind === 'user'
          ? { projectId: principal.projectId, kind: 'user', userExternalId: principal.userExternalId }
          : { projectId: principal.projectId, kind: 'secret' },
      connectedAt: this.connectedAt,
      orders,
      ...(this.projectFeed && this.feedStart ? { feed: this.feedStart } : {}),
    };
  }

  /** The session's row key when its row is current (its expiry is renewed while connected); retries a failed write. */
  rowToRenew(): string | undefined {
    if (this.closed || !this.recovery || !this.row?.renewable()) return undefined;
    return this.rowKey;
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
    if (restored.feed && this.principal.kind === 'secret') this.followProject(restored.feed);
    // This connection now owns the session's row.
    void this.persist();
  }
}
