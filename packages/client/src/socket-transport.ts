import { io, type Socket } from 'socket.io-client';
import { fullJitterDelay } from './backoff.js';
import { socketAuth } from './credentials.js';
import { AuthError, OrderNotFoundError, OrdercastClientError } from './errors.js';
import {
  parseOrderUpdate,
  parseSubscribeAck,
  SOCKET_NAMESPACE,
  SUBSCRIBE_EVENT,
  subscribeRequest,
  UNSUBSCRIBE_EVENT,
  UPDATE_EVENT,
} from './socket-messages.js';
import type { Credentials, Order } from './types.js';

const RECONNECT_DELAY_MAX_MS = 5000;
const SLOW_RECONNECT_AFTER_FAILURES = 3;
const SLOW_RECONNECT_DELAY_MAX_MS = 30_000;
const AUTH_CODES = new Set(['unauthorized', 'invalid_token', 'token_expired', 'forbidden']);

export interface SocketTransportOptions {
  baseUrl: string;
  credentials: Credentials;
  orderId: string;
  knownVersion: () => number | undefined;
  /** How long to wait for the subscribe acknowledgement before calling the gateway silent. */
  ackTimeoutMs: number;
  /** How long a connection attempt may take. */
  connectTimeoutMs: number;
  onOrder: (order: Order) => void;
  /** Subscribed: updates will now arrive live. */
  onUp: () => void;
  /** Not (or no longer) delivering; socket.io keeps trying to reconnect in the background. */
  onDown: (reason: unknown) => void;
  /** Retrying cannot help (bad credentials, unknown order). */
  onFatal: (error: OrdercastClientError) => void;
  /**
   * WebSocket only, without Socket.IO's own HTTP long-polling: in `auto` the tracker has
   * better HTTP fallbacks (SSE, then REST long-polls) that need no sticky sessions.
   */
  websocketOnly?: boolean;
}

/**
 * One order followed over the Socket.IO gateway. It only reports up/down and orders;
 * deciding to poll instead is the tracker's job.
 */
export class SocketTransport {
  private socket: Socket | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private failedConnects = 0;
  private closed = false;

  constructor(private readonly options: SocketTransportOptions) {}

  start(): void {
    const { options } = this;
    const socket = io(options.baseUrl.replace(/\/+$/, '') + SOCKET_NAMESPACE, {
      auth: socketAuth(options.credentials),
      timeout: options.connectTimeoutMs,
      // socket.io's own defaults, written out because the fallback timing depends on them.
      reconnectionDelay: 1000,
      reconnectionDelayMax: RECONNECT_DELAY_MAX_MS,
      randomizationFactor: 0.5,
      ...(options.websocketOnly ? { transports: ['websocket'] } : {}),
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.failedConnects = 0;
      socket.io.reconnectionDelayMax(RECONNECT_DELAY_MAX_MS);
      this.subscribe();
    });
    socket.on(UPDATE_EVENT, (payload: unknown) => {
      const order = parseOrderUpdate(payload, options.orderId);
      if (order) options.onOrder(order);
    });
    socket.on('disconnect', (reason) => {
      if (this.closed) return;
      options.onDown(new Error(`socket disconnected: ${reason}`));
      // After a server-side disconnect socket.io does not reconnect by itself.
      if (reason === 'io server disconnect') this.reconnectLater();
    });
    socket.on('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
      if (this.closed) return;
      const code = error.data?.code ?? error.message;
      if (AUTH_CODES.has(code)) return this.fail(new AuthError(code, error.data?.message ?? error.message, { cause: error }));
      options.onDown(error);
      // An endpoint that keeps failing (not deployed, blocked) is retried less often while polling covers for it.
      if (++this.failedConnects === SLOW_RECONNECT_AFTER_FAILURES) socket.io.reconnectionDelayMax(SLOW_RECONNECT_DELAY_MAX_MS);
      // A refusal by the gateway's middleware (socket.active false) is not retried by socket.io; the endpoint may come back.
      if (!socket.active) this.reconnectLater();
    });
  }

  /** Try now instead of waiting for the next scheduled attempt (a tab just became visible). */
  reconnectNow(): void {
    if (this.closed || !this.socket || this.socket.connected) return;
    clearTimeout(this.retryTimer);
    this.socket.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (socket?.connected) socket.emit(UNSUBSCRIBE_EVENT, { orderId: this.options.orderId });
    socket?.removeAllListeners();
    // Also closes the manager (and its reconnection timers) once no socket uses it.
    socket?.disconnect();
  }

  private subscribe(): void {
    const socket = this.socket;
    if (!socket || this.closed) return;
    const request = subscribeRequest(this.options.orderId, this.options.knownVersion());
    socket.timeout(this.options.ackTimeoutMs).emit(SUBSCRIBE_EVENT, request, (timeout: Error | null, payload: unknown) => {
      if (this.closed || socket !== this.socket) return;
      if (timeout) {
        // Connected but mute: treat as down, and ask again later on the same connection.
        this.options.onDown(new Error(`no ${SUBSCRIBE_EVENT} acknowledgement within ${this.options.ackTimeoutMs} ms`));
        this.retryTimer = setTimeout(() => socket.connected && this.subscribe(), this.nextDelay());
        return;
      }
      const ack = parseSubscribeAck(payload);
      if ('error' in ack) {
        const { code, message } = ack.error;
        if (code === 'order_not_found') return this.fail(new OrderNotFoundError(code, message));
        if (AUTH_CODES.has(code)) return this.fail(new AuthError(code, message));
        this.options.onDown(new OrdercastClientError(code, message));
        this.retryTimer = setTimeout(() => socket.connected && this.subscribe(), this.nextDelay());
        return;
      }
      this.attempts = 0;
      this.options.onOrder(ack.order);
      this.options.onUp();
    });
  }

  private reconnectLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => !this.closed && this.socket?.connect(), this.nextDelay());
  }

  private nextDelay(): number {
    return 1000 + fullJitterDelay(this.attempts++, { baseMs: 1000, capMs: 30_000 });
  }

  private fail(error: OrdercastClientError): void {
    if (this.closed) return;
    this.options.onFatal(error);
  }
}
