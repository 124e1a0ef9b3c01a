import { randomUUID } from 'node:crypto';
import { isOrdercastError } from '../../domain/errors.js';
import type { OrderEvent } from '../../domain/order.js';
import { RateLimiter } from '../../lib/rate-limiter.js';
import type { Logger } from '../../lib/logging.js';
import { OrderedDelivery } from '../ordered-delivery.js';
import { orderPublicationOf, publicationOf, readHistory, recoverChannel, userChannelStream, type HistoryStream, type Publication } from './channel-history.js';
import { CodecError, decodeCommands, encodeFrame, type Command } from './codec.js';
import { closeReason, DisconnectCodes, ErrorCodes, type ProtocolError } from './codes.js';
import type { ConnectionScope } from './connection-scope.js';
import { orderChannelStream, orderIdOfChannel, type OrderChannels } from './order-channels.js';
import { publicationFrame } from './publication-frames.js';
import type { AuthenticatedUser, ChannelOwner, CredentialWatch, LapseReason, UserChannels } from './user-channels.js';

/** The socket under a session: the gateway adapts a `ws` WebSocket to it. */
export interface SessionTransport {
  send(frame: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written: a client that stops reading is cut off. */
  bufferedAmount(): number;
}

export interface CentrifugeSessionOptions {
  channels: UserChannels;
  /** `order:<id>` channels and the `order.get` RPC. */
  orders: OrderChannels;
  /** Client-side subscriptions one connection may hold. */
  maxSubscriptions: number;
  /** Set on HTTP-streaming and SSE connections: the ids the client sends back to the emulation endpoint. */
  emulation?: { session: string; node: string };
  logger: Logger;
  version: string;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
  historyLimit: number;
  /** Commands per second one connection may send (burst twice that); 0 turns the limit off. */
  messagesPerSecond: number;
  /** Per-credential connect rate limit (`user:<project>:<user>` or `key:<project>`); false refuses the connect with 3013. */
  allowConnect(rateKey: string): boolean;
  onPublication(committedAt: string): void;
  onSubscribed(): void;
  onUnsubscribed(): void;
  maxBufferedBytes?: number;
}

type State = 'connecting' | 'connected' | 'closed';

const READ_BATCH = 200;

/**
 * The bits of a subscribe command's `flag` (the Go library's SubscriptionFlag). centrifuge-js 5.8 always
 * sends channel compaction, which asks for numeric channel ids in pushes: an option a server may leave
 * off, and this one does (replies carry no `id`, pushes the channel's name). Reject-unrecovered is honoured.
 */
const SubscribeFlags = { channelCompaction: 1, rejectUnrecovered: 2 } as const;

/** The subscribe command's flag bits; undefined when `flag` is not a whole number of 0 or more. */
function subscribeFlags(params: Record<string, unknown>): number | undefined {
  const flag = params.flag ?? 0;
  return typeof flag === 'number' && Number.isSafeInteger(flag) && flag >= 0 ? flag : undefined;
}

/** The RPC methods served, each reading with the connection's credential. */
export const RPC_METHODS = ['order.get'] as const;

/** A client-side subscription to an `order:<id>` channel. */
interface OrderSubscription {
  delivery: OrderedDelivery;
  unwatch: () => void;
  stream: HistoryStream;
}

/**
 * One Centrifuge client connection: the protocol state machine (connect first,
 * then history and pings), with the user's channel subscribed server-side.
 * It talks to the rest of the server only through UserChannels.
 */
export class CentrifugeSession {
  readonly id = randomUUID();
  private state: State = 'connecting';
  private owner: ChannelOwner | undefined;
  private scope: ConnectionScope | undefined;
  private channel = '';
  private readonly orderSubscriptions = new Map<string, OrderSubscription>();
  private delivery: OrderedDelivery | undefined;
  private unwatch: (() => void) | undefined;
  private queue: Promise<void> = Promise.resolve();
  private connectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private readonly rate: RateLimiter;
  private credentialWatch: CredentialWatch | undefined;
  /** Whether the token came in the protocol's `token` field: such clients refresh it (getToken). */
  private refreshable = false;

  constructor(
    private readonly transport: SessionTransport,
    private readonly options: CentrifugeSessionOptions,
  ) {
    this.rate = new RateLimiter(options.messagesPerSecond, options.messagesPerSecond * 2);
    this.connectTimer = setTimeout(() => this.disconnect(DisconnectCodes.stale, 'stale: no connect command in time'), options.connectTimeoutMs);
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Frames are handled strictly in order, each after the previous one's replies. */
  receive(frame: string): void {
    if (this.state === 'closed') return;
    this.queue = this.queue
      .then(() => this.handleFrame(frame))
      .catch((error) => {
        this.options.logger.error({ err: error }, 'centrifuge: unexpected error');
        this.disconnect(DisconnectCodes.badRequest, 'bad request: the server could not handle the command');
      });
  }

  /** The transport closed (by the peer or the gateway): release everything. */
  dispose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.connectTimer);
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.credentialWatch?.stop();
    if (this.unwatch) {
      this.unwatch();
      this.unwatch = undefined;
      this.options.onUnsubscribed();
    }
    this.delivery?.close();
    for (const channel of [...this.orderSubscriptions.keys()]) this.dropOrderSubscription(channel);
  }

  disconnect(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.dispose();
    this.transport.close(code, closeReason(reason));
  }

  private async handleFrame(frame: string): Promise<void> {
    let commands: Command[];
    try {
      commands = decodeCommands(frame);
    } catch (error) {
      if (error instanceof CodecError) return this.disconnect(DisconnectCodes.badRequest, `bad request: ${error.message}`);
      throw error;
    }
    for (const command of commands) {
      if (this.state === 'closed') return;
      await this.handleCommand(command);
    }
  }

  private async handleCommand(command: Command): Promise<void> {
    if (command.isPong) {
      if (!this.awaitingPong) return this.disconnect(DisconnectCodes.badRequest, 'bad request: pong without a ping');
      this.awaitingPong = false;
      clearTimeout(this.pongTimer);
      return;
    }
    if (command.method === 'send') return; // asynchronous message: no reply, and nothing to do with it here
    if (command.id === 0) return this.disconnect(DisconnectCodes.badRequest, 'bad request: a command needs an id');
    if (this.state === 'connecting' && command.method !== 'connect') {
      return this.disconnect(DisconnectCodes.badRequest, 'bad request: send connect first');
    }
    if (command.method !== 'connect' && this.rate.enabled && !this.rate.take('session').allowed) {
      return this.replyError(command, { code: ErrorCodes.tooManyRequests, message: 'too many requests: slow down', temporary: true });
    }
    switch (command.method) {
      case 'connect':
        if (this.state !== 'connecting') return this.disconnect(DisconnectCodes.badRequest, 'bad request: already connected');
        return this.connect(command);
      case 'history':
        return this.history(command);
      case 'subscribe':
        return this.subscribe(command);
      case 'unsubscribe': {
        const channel = command.params.channel;
        if (typeof channel === 'string') this.dropOrderSubscription(channel);
        return this.reply(command, 'unsubscribe', {});
      }
      case 'rpc':
        return this.rpc(command);
      case 'refresh':
        return this.refresh(command);
      case 'publish':
      case 'presence':
      case 'presence_stats':
      case 'sub_refresh':
        return this.replyError(command, { code: ErrorCodes.notAvailable, message: `not available: ${command.method} is not supported by Ordercast` });
      default:
        return this.replyError(command, { code: ErrorCodes.methodNotFound, message: `method not found: ${String(command.unknownMethod ?? '').slice(0, 32)}` });
    }
  }

  private async connect(command: Command): Promise<void> {
    const token = command.params.token;
    if (token !== undefined && typeof token !== 'string') return this.disconnect(DisconnectCodes.badRequest, 'bad request: connect token must be a string');
    // centrifuge-js sends `token` only when it has one; an empty string means none.
    this.refreshable = typeof token === 'string' && token !== '';
    let user: AuthenticatedUser;
    try {
      user = await this.options.channels.authenticate(command.params.data, this.refreshable ? (token as string) : undefined);
    } catch (error) {
      return this.refuseConnect(command, error);
    }
    if (this.closed) return;
    const { owner, scope } = user;
    if (!this.options.allowConnect(owner ? `user:${owner.projectId}:${owner.userExternalId}` : `key:${scope.projectId}`)) {
      return this.disconnect(DisconnectCodes.tooManyRequests, 'too many requests: reconnecting too often');
    }
    const { channels, historyLimit } = this.options;
    const subs: Record<string, Record<string, unknown>> = {};
    let live: { channel: string; delivery: OrderedDelivery; unwatch: () => void; startAt: number } | undefined;
    if (owner) {
      const channel = channels.channelName(owner);
      const delivery = new OrderedDelivery({
        positionOf: (event) => event.userOffset ?? 0,
        readAfter: (offset) => channels.read(owner, { from: offset, limit: READ_BATCH }),
        deliver: (event) => this.publish(event, channel, publicationOf),
        onError: (error) => this.options.logger.warn({ err: error, channel }, 'centrifuge: catching up from the log failed'),
      });
      // Watch before reading the position: what commits in between waits in the delivery.
      const unwatch = channels.watch(owner, (event) => delivery.offer(event));
      try {
        const request = (command.params.subs as Record<string, { recover?: unknown; offset?: unknown; epoch?: unknown }> | undefined)?.[channel];
        const opened = await this.openStream(userChannelStream(channels, owner), request, historyLimit);
        subs[channel] = opened.result;
        live = { channel, delivery, unwatch, startAt: opened.startAt };
      } catch (error) {
        unwatch();
        delivery.close();
        return this.replyError(command, this.internalError(error));
      }
      if (this.closed) {
        unwatch();
        delivery.close();
        return;
      }
      this.owner = owner;
      this.channel = channel;
      this.delivery = delivery;
      this.unwatch = unwatch;
      this.options.onSubscribed();
    }
    this.scope = scope;
    this.state = 'connected';
    clearTimeout(this.connectTimer);
    this.credentialWatch = channels.watchCredential(user.credential, (reason) => this.lapse(reason));
    if (this.closed) return; // it lapsed while the connect was being handled
    this.reply(command, 'connect', {
      client: this.id,
      version: this.options.version,
      // Only a client that sent `token` can refresh it; one with data.auth has no getToken, and would stop for good.
      ...(this.refreshable && owner ? { expires: true, ttl: refreshAfterSeconds(user.lapsesAtMs) } : {}),
      ping: Math.round(this.options.pingIntervalMs / 1000),
      pong: true,
      ...(Object.keys(subs).length > 0 ? { subs } : {}),
      ...(this.options.emulation ?? {}),
    });
    live?.delivery.start(live.startAt);
    this.schedulePing(true);
  }

  /**
   * The subscribe result of a channel, recovering from the client's offset when it
   * asks to (Go's isStreamRecovered: see channel-history.ts), and where its live
   * delivery starts.
   */
  private async openStream(
    stream: HistoryStream,
    request: { recover?: unknown; offset?: unknown; epoch?: unknown } | undefined,
    cap: number,
  ): Promise<{ result: Record<string, unknown>; startAt: number }> {
    if (request && typeof request === 'object' && request.recover === true) {
      const recovery = await recoverChannel(stream, request, cap);
      return {
        startAt: recovery.position.offset,
        result: {
          recoverable: true,
          positioned: true,
          epoch: recovery.position.epoch,
          offset: recovery.announcedOffset,
          was_recovering: true,
          recovered: recovery.recovered,
          ...(recovery.publications.length > 0 ? { publications: recovery.publications } : {}),
        },
      };
    }
    const position = await stream.position();
    return { startAt: position.offset, result: { recoverable: true, positioned: true, epoch: position.epoch, offset: position.offset } };
  }

  /**
   * A client-side subscription. Only `order:<id>` channels are served, for orders the
   * connection's credential may read (a user token: that user's orders; a secret key:
   * any order of its project). Anything else is 103, whether the order exists or not.
   */
  private async subscribe(command: Command): Promise<void> {
    const channel = command.params.channel;
    if (typeof channel !== 'string' || channel === '')
      return this.replyError(command, { code: ErrorCodes.badRequest, message: 'bad request: subscribe needs a channel' });
    if (channel === this.channel || this.orderSubscriptions.has(channel)) {
      return this.replyError(command, { code: ErrorCodes.alreadySubscribed, message: 'already subscribed' });
    }
    const flags = subscribeFlags(command.params);
    if (flags === undefined) return this.replyError(command, { code: ErrorCodes.badRequest, message: 'bad request: flag must be a whole number' });
    const orderId = orderIdOfChannel(channel);
    if (orderId === undefined) {
      return this.replyError(command, {
        code: ErrorCodes.permissionDenied,
        message: 'permission denied: subscribe to order:<id> channels of orders you may read',
      });
    }
    if (this.orderSubscriptions.size >= this.options.maxSubscriptions) {
      return this.replyError(command, {
        code: ErrorCodes.limitExceeded,
        message: `limit exceeded: at most ${this.options.maxSubscriptions} subscriptions per connection`,
      });
    }
    const { orders, historyLimit } = this.options;
    const scope = this.scope!;
    const delivery = new OrderedDelivery({
      positionOf: (event) => event.version,
      readAfter: (version) => orders.read(orderId, version, READ_BATCH),
      deliver: (event) => this.publish(event, channel, orderPublicationOf),
      onError: (error) => this.options.logger.warn({ err: error, channel }, 'centrifuge: catching up from the log failed'),
    });
    const unwatch = orders.watch(orderId, (event) => delivery.offer(event));
    const release = () => {
      unwatch();
      delivery.close();
    };
    const stream = orderChannelStream(orders, scope, orderId);
    let opened: { result: Record<string, unknown>; startAt: number };
    try {
      if (!(await orders.find(scope, orderId))) {
        release();
        return this.replyError(command, { code: ErrorCodes.permissionDenied, message: 'permission denied: no such order for this credential' });
      }
      opened = await this.openStream(stream, command.params, historyLimit);
    } catch (error) {
      release();
      return this.replyError(command, this.internalError(error));
    }
    if (this.closed) return release();
    // centrifuge-js sets this bit whenever the app keeps its own state (getState): a position that cannot be
    // recovered is then error 112, and the client calls getState again rather than carrying on with a gap.
    if (opened.result.recovered === false && (flags & SubscribeFlags.rejectUnrecovered) !== 0) {
      release();
      return this.replyError(command, { code: ErrorCodes.unrecoverablePosition, message: 'unrecoverable position: reload the state, then subscribe again' });
    }
    this.orderSubscriptions.set(channel, { delivery, unwatch, stream });
    this.options.onSubscribed();
    this.reply(command, 'subscribe', opened.result);
    delivery.start(opened.startAt);
  }

  private dropOrderSubscription(channel: string): void {
    const subscription = this.orderSubscriptions.get(channel);
    if (!subscription) return;
    this.orderSubscriptions.delete(channel);
    subscription.unwatch();
    subscription.delivery.close();
    this.options.onUnsubscribed();
  }

  /** `rpc` with method `order.get` and data `{id}`: the order, read with the connection's credential. */
  private async rpc(command: Command): Promise<void> {
    const { method, data } = command.params as { method?: unknown; data?: unknown };
    if (typeof method !== 'string' || !(RPC_METHODS as readonly string[]).includes(method)) {
      return this.replyError(command, { code: ErrorCodes.methodNotFound, message: `method not found: use ${RPC_METHODS.join(', ')}` });
    }
    const id = typeof data === 'object' && data !== null ? (data as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || id === '' || id.length > 100) {
      return this.replyError(command, { code: ErrorCodes.badRequest, message: 'bad request: order.get needs data {"id": "<order id>"}' });
    }
    try {
      const order = await this.options.orders.find(this.scope!, id);
      if (!order) return this.replyError(command, { code: ErrorCodes.permissionDenied, message: 'permission denied: no such order for this credential' });
      this.reply(command, 'rpc', { data: order });
    } catch (error) {
      this.replyError(command, this.internalError(error));
    }
  }

  /**
   * A refused token closes with a final code and a reason the user can read, so the
   * client stops retrying. An expired token sent in `token` answers error 109 instead:
   * centrifuge-js then calls getToken and connects again with the new one.
   */
  private refuseConnect(command: Command, error: unknown): void {
    if (!isOrdercastError(error)) return this.replyError(command, this.internalError(error));
    switch (error.code) {
      case 'token_expired':
        if (this.refreshable) return this.replyError(command, { code: ErrorCodes.tokenExpired, message: `token expired: ${error.message}` });
        return this.disconnect(DisconnectCodes.invalidToken, `token expired: ${error.message}`);
      case 'forbidden':
        return this.disconnect(DisconnectCodes.permissionDenied, `permission denied: ${error.message}`);
      case 'validation_failed':
        return this.disconnect(DisconnectCodes.badRequest, `bad request: ${error.message}`);
      default:
        return this.disconnect(DisconnectCodes.invalidToken, `invalid token: ${error.message}`);
    }
  }

  /**
   * The protocol's `refresh`: a live connection presents a new token for the same
   * user before the old one lapses, and keeps its subscription.
   */
  private async refresh(command: Command): Promise<void> {
    if (!this.owner)
      return this.replyError(command, { code: ErrorCodes.notAvailable, message: 'not available: a secret-key connection has no token to refresh' });
    const token = command.params.token;
    if (typeof token !== 'string' || token === '')
      return this.replyError(command, { code: ErrorCodes.badRequest, message: 'bad request: refresh needs a token' });
    let user: AuthenticatedUser;
    try {
      user = await this.options.channels.authenticate({ project_id: this.owner!.projectId }, token);
    } catch (error) {
      if (!isOrdercastError(error)) return this.replyError(command, this.internalError(error));
      if (error.code === 'token_expired') return this.replyError(command, { code: ErrorCodes.tokenExpired, message: `token expired: ${error.message}` });
      return this.disconnect(DisconnectCodes.invalidToken, `invalid token: ${error.message}`);
    }
    if (this.closed) return;
    if (!user.owner || user.owner.projectId !== this.owner!.projectId || user.owner.userExternalId !== this.owner!.userExternalId) {
      return this.disconnect(DisconnectCodes.invalidToken, 'invalid token: the new token is for another user than the connection');
    }
    this.refreshable = true;
    this.credentialWatch?.update(user.credential);
    this.reply(command, 'refresh', { client: this.id, version: this.options.version, expires: true, ttl: refreshAfterSeconds(user.lapsesAtMs) });
  }

  /**
   * The credential lapsed while connected (expiry, or a rotation or revocation
   * anywhere): close with 3005, which makes the client reconnect. Its next connect
   * is checked afresh: a client with getToken gets error 109 and fetches a new
   * token; one without it is refused with 3500 and the reason.
   */
  private lapse(reason: LapseReason): void {
    this.disconnect(DisconnectCodes.expired, `expired: ${reason.message}`);
  }

  /** History of a channel this connection is subscribed to (Centrifugo's allow_history_for_subscriber); 103 for any other. */
  private async history(command: Command): Promise<void> {
    const channel = command.params.channel;
    const stream =
      this.owner && channel === this.channel
        ? userChannelStream(this.options.channels, this.owner)
        : typeof channel === 'string'
          ? this.orderSubscriptions.get(channel)?.stream
          : undefined;
    if (!stream) {
      return this.replyError(command, {
        code: ErrorCodes.permissionDenied,
        message: 'permission denied: history is only available for channels you are subscribed to',
      });
    }
    try {
      const result = await readHistory(stream, command.params, this.options.historyLimit);
      this.reply(command, 'history', result);
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as ProtocolError).code === 'number') {
        return this.replyError(command, error as ProtocolError);
      }
      this.replyError(command, this.internalError(error));
    }
  }

  private internalError(error: unknown): ProtocolError {
    this.options.logger.warn({ err: error }, 'centrifuge: command failed');
    return { code: ErrorCodes.internal, message: 'internal server error', temporary: true };
  }

  private schedulePing(first = false): void {
    const interval = this.options.pingIntervalMs;
    // The first ping goes out somewhere in the second half of the interval, so pings of many clients spread out.
    const delay = first ? interval / 2 + Math.random() * (interval / 2) : interval;
    this.pingTimer = setTimeout(() => {
      if (this.state !== 'connected') return;
      this.awaitingPong = true;
      this.write([{}]);
      this.pongTimer = setTimeout(() => this.disconnect(DisconnectCodes.noPong, 'no pong'), this.options.pongTimeoutMs);
      this.schedulePing();
    }, delay);
  }

  private publish(event: OrderEvent, channel: string, publication: (event: OrderEvent) => Publication): void {
    if (this.state !== 'connected') return;
    this.writeFrame(publicationFrame(event, channel, publication));
    this.options.onPublication(event.createdAt);
  }

  private reply(command: Command, method: string, result: object): void {
    this.write([{ id: command.id, [method]: result }]);
  }

  private replyError(command: Command, error: ProtocolError): void {
    this.write([{ id: command.id, error }]);
  }

  private write(messages: object[]): void {
    this.writeFrame(encodeFrame(messages));
  }

  private writeFrame(frame: string): void {
    if (this.state === 'closed') return;
    if (this.transport.bufferedAmount() > (this.options.maxBufferedBytes ?? 4 * 1024 * 1024)) {
      return this.disconnect(DisconnectCodes.slow, 'slow: the client does not read fast enough');
    }
    this.transport.send(frame);
  }
}

/**
 * The `ttl` to announce: centrifuge-js refreshes when it runs out, so it runs out a
 * little before the token does (a tenth of the time left, between 2 and 30 s),
 * leaving time to call getToken and send `refresh`.
 */
export function refreshAfterSeconds(lapsesAtMs: number, now = Date.now()): number {
  const left = lapsesAtMs - now;
  const margin = Math.min(30_000, Math.max(2_000, left / 10));
  return Math.max(1, Math.floor((left - margin) / 1000));
}
