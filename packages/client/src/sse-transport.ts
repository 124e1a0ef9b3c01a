import { fullJitterDelay } from './backoff.js';
import { restAuthorization } from './credentials.js';
import { AuthError, OrderNotFoundError, OrdercastClientError } from './errors.js';
import { parseOrderUpdate } from './socket-messages.js';
import { SseStreamParser } from './sse-stream-parser.js';
import type { Credentials, Order } from './types.js';

/** The server's event names on `GET /api/v2/orders/{id}/stream` (docs/realtime.md). */
const UPDATE_EVENT = 'order.update';
const AUTH_ERROR_EVENT = 'auth.error';
/** The server sends a heartbeat every 15 s by default: three missed ones mean the stream is dead. */
const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

export interface SseTransportOptions {
  baseUrl: string;
  credentials: Credentials;
  orderId: string;
  /** Sent as `Last-Event-ID`: the stream starts with the versions after it, read from the log. */
  knownVersion: () => number | undefined;
  /** The response and its first bytes must arrive within this time (a buffering proxy never sends them). */
  connectTimeoutMs: number;
  /** No bytes at all, heartbeats included, for this long: the stream is taken for dead and reopened. */
  idleTimeoutMs?: number;
  onOrder: (order: Order) => void;
  /** Streaming: updates will now arrive live. */
  onUp: () => void;
  /** Not (or no longer) streaming; it retries in the background. */
  onDown: (reason: unknown) => void;
  /** Retrying cannot help (bad credentials, unknown order). */
  onFatal: (error: OrdercastClientError) => void;
  /**
   * Stop for good, after `onDown` with a StreamUnusableError, when retrying cannot help:
   * the stream brought nothing within `connectTimeoutMs` (a proxy that buffers whole
   * responses will not stop doing so), or the server has no stream route.
   */
  giveUpWhenUnusable?: boolean;
  fetch?: typeof fetch;
}

/** SSE cannot work on this path: a proxy that buffers whole responses, or a server without the stream route. */
export class StreamUnusableError extends Error {}

/**
 * One order followed over Server-Sent Events (`GET /api/v2/orders/{id}/stream`), read with
 * `fetch` rather than `EventSource`: the credential goes in the `Authorization` header (never
 * in a URL), refusals come back as typed errors, and it runs the same in browsers and Node.
 * Like the socket transport it only reports up/down and orders; the tracker decides.
 */
export class SseTransport {
  private controller: AbortController | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private closed = false;

  constructor(private readonly options: SseTransportOptions) {}

  start(): void {
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.controller?.abort();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const { options } = this;
    const controller = new AbortController();
    this.controller = controller;
    const url = new URL(`api/v2/orders/${encodeURIComponent(options.orderId)}/stream`, options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    const headers: Record<string, string> = { authorization: restAuthorization(options.credentials), accept: 'text/event-stream' };
    const known = options.knownVersion();
    if (known !== undefined) headers['last-event-id'] = String(known);
    let up = false;
    // The server ends the stream after a final status: that end is not a failure, and there is nothing to reconnect for.
    let sawFinal = false;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number, why: string) => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error(why)), ms);
    };
    clearTimeout(idle);
    idle = setTimeout(
      () => controller.abort(new StreamUnusableError(`no answer from the stream within ${options.connectTimeoutMs} ms`)),
      options.connectTimeoutMs,
    );
    try {
      const response = await (options.fetch ?? fetch)(url, { headers, signal: controller.signal, cache: 'no-store' });
      // 204: the order is final and its last version is the one we hold; nothing more will come.
      if (response.status === 204) return;
      if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('text/event-stream') || !response.body) {
        return this.refused(response, await response.text().catch(() => ''));
      }
      const parser = new SseStreamParser((message) => {
        if (message.event === UPDATE_EVENT) {
          const order = parseJson(message.data, (payload) => parseOrderUpdate(payload, options.orderId));
          if (!order) return;
          this.attempts = 0;
          sawFinal ||= order.final;
          options.onOrder(order);
        } else if (message.event === AUTH_ERROR_EVENT) {
          const reason = parseJson(message.data, (payload) => payload as { code?: string; message?: string });
          this.fail(new AuthError(reason?.code ?? 'unauthorized', reason?.message ?? 'The credential lapsed while streaming'));
        }
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.closed) break;
        arm(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, 'the stream went silent (no heartbeat)');
        if (!up) {
          up = true;
          options.onUp();
        }
        parser.push(value);
      }
      // The server ended the stream (a restart, a lapsed credential): reconnect with Last-Event-ID.
      if (!this.closed && !sawFinal) {
        options.onDown(new Error('the stream ended'));
        this.reconnectLater(true);
      }
    } catch (error) {
      if (this.closed) return;
      const reason = controller.signal.reason instanceof Error ? controller.signal.reason : error;
      if (reason instanceof StreamUnusableError && options.giveUpWhenUnusable) this.close();
      else this.reconnectLater();
      options.onDown(reason);
    } finally {
      clearTimeout(idle);
    }
  }

  private refused(response: Response, text: string): void {
    const body = parseJson(text, (payload) => (payload as { error?: { code?: unknown; message?: unknown } } | null)?.error);
    const code = typeof body?.code === 'string' ? body.code : `http_${response.status}`;
    const message = typeof body?.message === 'string' ? body.message : `HTTP ${response.status} from the order stream`;
    if (response.status === 401 || response.status === 403) return this.fail(new AuthError(code, message, { status: response.status }));
    if (response.status === 404 && code === 'order_not_found') return this.fail(new OrderNotFoundError(code, message, { status: response.status }));
    if (response.status === 404 && this.options.giveUpWhenUnusable) {
      // A server without the stream route (an older Ordercast, a gateway that does not pass it on).
      this.close();
      return this.options.onDown(new StreamUnusableError(`${message} (${code})`));
    }
    // A proxy's error page, 429, 5xx: down for now, tried again later.
    this.options.onDown(new OrdercastClientError(code, message, { status: response.status }));
    this.reconnectLater();
  }

  private reconnectLater(soon = false): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    // A stream that ended after delivering is reopened at once; anything else backs off.
    const delay = soon && this.attempts === 0 ? 0 : 1000 + fullJitterDelay(this.attempts, { baseMs: 1000, capMs: 30_000 });
    this.attempts++;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private fail(error: OrdercastClientError): void {
    if (this.closed) return;
    this.close();
    this.options.onFatal(error);
  }
}

function parseJson<T>(text: string, pick: (payload: unknown) => T): T | undefined {
  try {
    return pick(JSON.parse(text));
  } catch {
    return undefined;
  }
}
