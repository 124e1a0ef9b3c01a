import { randomUUID } from 'node:crypto';
import { isOrdercastError } from '../../domain/errors.js';
import type { OrderEvent } from '../../domain/order.js';
import type { Logger } from '../../lib/logging.js';
import type { ConnectionQuota } from '../connection-quota.js';
import { type MessageBudget, takeToken } from '../message-budget.js';
import { answerHistory, openChannelStream, userChannelStream, type Publication } from './channel-history.js';
import { ChannelSubscription, type PublicationSink } from './channel-subscription.js';
import { CodecError, decodeCommands, encodeFrame, type Command } from './codec.js';
import { closeReason, connectRefusal, DisconnectCodes, lapseDisconnect, ErrorCodes, SubscribeFlags, subscribeFlags, type ProtocolError } from './codes.js';
import type { ConnectionScope } from './user-channels.js';
import { orderChannelStream, orderIdOfChannel, type OrderChannels } from './order-channels.js';
import { publicationFrame } from './publication-frames.js';
import type { Keepalives, Pinged } from './keepalive.js';
import { answerRpc } from './rpc.js';
import { refreshAfterSeconds } from './token-refresh.js';
import type { AuthenticatedUser, ChannelOwner, CredentialWatch, UserChannels } from './user-channels.js';

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
  logger: Logger;
  version: string;
  pingIntervalMs: number;
  /** The pings of every session of the gateway (one timer for all). */
  keepalives: Keepalives;
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
  /** Each project's open_connections quota (shared with Socket.IO and SSE); none: no quota. */
  connectionQuota?: ConnectionQuota;
}

type State = 'connecting' | 'connected' | 'closed';

/**
 * One Centrifuge client connection: the protocol state machine (connect first,
 * then history and pings), with the user's channel subscribed server-side.
 * It talks to the rest of the server only through UserChannels.
 */
export class CentrifugeSession implements Pinged, PublicationSink {
  readonly id = randomUUID();
  private state: State = 'connecting';
  private owner: ChannelOwner | undefined;
  private scope: ConnectionScope | undefined;
  /** The user's channel, subscribed server-side (a user token). */
  private userChannel: ChannelSubscription | undefined;
  /** Client-side subscriptions to `order:<id>` channels. */
  private readonly orderSubscriptions = new Map<string, ChannelSubscription>();
  private queue: Promise<void> = Promise.resolve();
  private connectTimer: NodeJS.Timeout | undefined;
  /** The gateway's Keepalives keep these two (keepalive.ts). */
  keepaliveTick: number | undefined = undefined;
  awaitingPong = false;
  /** Commands per second: `messagesPerSecond` sustained, twice that at once. */
  private readonly budget: MessageBudget;
  /** The project's connection slot, taken once a credential says which project. */
  private slot: (() => void) | undefined;
  private credentialWatch: CredentialWatch | undefined;
  /** Whether the token came in the protocol's `token` field: such clients refresh it (getToken). */
  private refreshable = false;

  /**
   * `options` are shared by every session (one copy per connection would be kept by each
   * idle one); `emulation` is set on HTTP-streaming and SSE connections: the ids the client
   * sends back to the emulation endpoint.
   */
  constructor(
    private readonly transport: SessionTransport,
    private readonly options: CentrifugeSessionOptions,
    private readonly emulation?: { session: string; node: string },
  ) {
    this.budget = { tokens: options.messagesPerSecond * 2, at: Date.now() };
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
    this.options.keepalives.stop(this);
    this.credentialWatch?.stop();
    this.slot?.();
    if (this.userChannel) {
      this.userChannel.close();
      this.options.onUnsubscribed();
    }
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
      if (!this.options.keepalives.pong(this)) this.disconnect(DisconnectCodes.badRequest, 'bad request: pong without a ping');
      return;
    }
    if (command.method === 'send') return; // asynchronous message: no reply, and nothing to do with it here
    if (command.id === 0) return this.disconnect(DisconnectCodes.badRequest, 'bad request: a command needs an id');
    if (this.state === 'connecting' && command.method !== 'connect') {
      return this.disconnect(DisconnectCodes.badRequest, 'bad request: send connect first');
    }
    if (command.method !== 'connect' && !takeToken(this.budget, this.options.messagesPerSecond)) {
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
      // A refusal (`quota_exceeded`) is a temporary error 106. A connect that failed later keeps its slot for the next one.
      this.slot ??= await this.options.connectionQuota?.openConnection(user.scope.projectId);
    } catch (error) {
      return this.refuseConnect(command, error);
    }
    // The transport closed meanwhile: the slot, if one was just taken, goes back.
    if (this.closed) return this.slot?.();
    const { owner, scope } = user;
    if (!this.options.allowConnect(owner ? `user:${owner.projectId}:${owner.userExternalId}` : `key:${scope.projectId}`)) {
      return this.disconnect(DisconnectCodes.tooManyRequests, 'too many requests: reconnecting too often');
    }
    const { channels, historyLimit } = this.options;
    const subs: Record<string, Record<string, unknown>> = {};
    let startAt = 0;
    if (owner) {
      const channel = channels.channelName(owner);
      const subscription = new ChannelSubscription(channel, userChannelStream(channels, owner), this, this.options.logger);
      try {
        const request = (command.params.subs as Record<string, { recover?: unknown; offset?: unknown; epoch?: unknown }> | undefined)?.[channel];
        const opened = await openChannelStream(subscription.stream, request, historyLimit);
        subs[channel] = opened.result;
        startAt = opened.startAt;
      } catch (error) {
        subscription.close();
        return this.replyError(command, this.internalError(error));
      }
      if (this.closed) return subscription.close();
      this.owner = owner;
      this.userChannel = subscription;
      this.options.onSubscribed();
    }
    this.scope = scope;
    this.state = 'connected';
    clearTimeout(this.connectTimer);
    // An idle connection keeps no spent timer.
    this.connectTimer = undefined;
    // Lapsed while connected (expiry, a rotation or revocation anywhere): 3005 makes the client reconnect, and its
    // next connect is checked afresh (with getToken, error 109 and a new token; without, 3500 and the reason).
    this.credentialWatch = channels.watchCredential(user.credential, (reason) => this.disconnect(...lapseDisconnect(reason)));
    if (this.closed) return; // it lapsed while the connect was being handled
    this.reply(command, 'connect', {
      client: this.id,
      version: this.options.version,
      // Only a client that sent `token` can refresh it; one with data.auth has no getToken, and would stop for good.
      ...(this.refreshable && owner ? { expires: true, ttl: refreshAfterSeconds(user.lapsesAtMs) } : {}),
      ping: Math.round(this.options.pingIntervalMs / 1000),
      pong: true,
      ...(Object.keys(subs).length > 0 ? { subs } : {}),
      ...(this.emulation ?? {}),
    });
    this.userChannel?.delivery.start(startAt);
    this.options.keepalives.start(this);
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
    if (channel === this.userChannel?.channel || this.orderSubscriptions.has(channel)) {
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
    const subscription = new ChannelSubscription(channel, orderChannelStream(orders, scope, orderId), this, this.options.logger);
    let opened: { result: Record<string, unknown>; startAt: number };
    try {
      if (!(await orders.find(scope, orderId))) {
        subscription.close();
        return this.replyError(command, { code: ErrorCodes.permissionDenied, message: 'permission denied: no such order for this credential' });
      }
      opened = await openChannelStream(subscription.stream, command.params, historyLimit);
    } catch (error) {
      subscription.close();
      return this.replyError(command, this.internalError(error));
    }
    if (this.closed) return subscription.close();
    // centrifuge-js sets this bit whenever the app keeps its own state (getState): a position that cannot be
    // recovered is then error 112, and the client calls getState again rather than carrying on with a gap.
    if (opened.result.recovered === false && (flags & SubscribeFlags.rejectUnrecovered) !== 0) {
      subscription.close();
      return this.replyError(command, { code: ErrorCodes.unrecoverablePosition, message: 'unrecoverable position: reload the state, then subscribe again' });
    }
    this.orderSubscriptions.set(channel, subscription);
    this.options.onSubscribed();
    this.reply(command, 'subscribe', opened.result);
    subscription.delivery.start(opened.startAt);
  }

  private dropOrderSubscription(channel: string): void {
    const subscription = this.orderSubscriptions.get(channel);
    if (!subscription) return;
    this.orderSubscriptions.delete(channel);
    subscription.close();
    this.options.onUnsubscribed();
  }

  /** `rpc`: the methods of rpc.ts, read with the connection's credential. */
  private rpc(command: Command): Promise<void> {
    return this.answer(command, 'rpc', answerRpc(this.options.orders, this.scope!, command.params));
  }

  /** Replies with a command's result or its protocol error; anything thrown is an internal error (100). */
  private async answer(command: Command, method: string, outcome: Promise<{ result: object } | { error: ProtocolError }>): Promise<void> {
    try {
      const answer = await outcome;
      if ('error' in answer) return this.replyError(command, answer.error);
      this.reply(command, method, answer.result);
    } catch (error) {
      this.replyError(command, this.internalError(error));
    }
  }

  /** A connect whose credential was refused: an error reply, or a close with a final code (codes.ts, `connectRefusal`). */
  private refuseConnect(command: Command, error: unknown): void {
    if (!isOrdercastError(error)) return this.replyError(command, this.internalError(error));
    const refusal = connectRefusal(error, this.refreshable);
    if ('reply' in refusal) return this.replyError(command, refusal.reply);
    this.disconnect(refusal.close, refusal.reason);
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

  /** History of a channel this connection is subscribed to (Centrifugo's allow_history_for_subscriber); 103 for any other. */
  private async history(command: Command): Promise<void> {
    const channel = command.params.channel;
    const stream = (this.userChannel?.channel === channel ? this.userChannel : this.orderSubscriptions.get(channel as string))?.stream;
    if (!stream) {
      return this.replyError(command, {
        code: ErrorCodes.permissionDenied,
        message: 'permission denied: history is only available for channels you are subscribed to',
      });
    }
    return this.answer(command, 'history', answerHistory(stream, command.params, this.options.historyLimit));
  }

  private internalError(error: unknown): ProtocolError {
    this.options.logger.warn({ err: error }, 'centrifuge: command failed');
    return { code: ErrorCodes.internal, message: 'internal server error', temporary: true };
  }

  /** Keepalive: sends a ping while connected. */
  ping(): boolean {
    if (this.state !== 'connected') return false;
    this.write([{}]);
    return true;
  }

  timedOut(): void {
    this.disconnect(DisconnectCodes.noPong, 'no pong');
  }

  publish(event: OrderEvent, channel: string, publication: (event: OrderEvent) => Publication): void {
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
