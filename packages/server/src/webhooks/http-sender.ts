import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher, errors as undiciErrors } from 'undici';
import { guardedConnector } from '../lib/guarded-connector.js';

/** The most of a response body that is read and kept; the rest is never downloaded. */
export const MAX_RESPONSE_BODY_BYTES = 4096;

export interface SendResult {
  statusCode: number | null;
  headers: Record<string, string> | null;
  /** The first MAX_RESPONSE_BODY_BYTES of the body, as text. */
  body: string | null;
  durationMs: number;
  /** Set when no HTTP status came back. */
  errorCode: string | null;
  error: string | null;
}

export interface HttpSenderOptions {
  allowPrivate: boolean;
  timeout: number;
  connectTimeout: number;
  userAgent: string;
}

/**
 * POSTs webhook bodies through one keep-alive pool whose connector enforces the
 * SSRF guard. Redirects are never followed, and the response body is read only up
 * to the cap. Requests go straight to the pool's `dispatch` with a small handler:
 * undici's `request()` wraps every response in a stream and an abort signal, which
 * cost more CPU than the rest of the exchange (figures in bench/README.md).
 */
export class HttpSender {
  private readonly agent: Agent;
  /** Origin and path of each URL seen, so a URL is parsed once, not per attempt. */
  private readonly targets = new Map<string, { origin: string; path: string }>();

  constructor(private readonly options: HttpSenderOptions) {
    this.agent = new Agent({
      connect: guardedConnector({ allowPrivate: options.allowPrivate, connectTimeout: options.connectTimeout }),
      headersTimeout: options.timeout,
      bodyTimeout: options.timeout,
      keepAliveTimeout: 10_000,
      connections: 32,
    });
  }

  post(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    let target: { origin: string; path: string };
    try {
      target = this.target(url);
    } catch (error) {
      return Promise.resolve(failure(error, started, this.options));
    }
    return new Promise((resolve) => {
      const handler = new CappedResponse(started, this.options, resolve);
      try {
        this.agent.dispatch(
          {
            origin: target.origin,
            path: target.path,
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json', 'user-agent': this.options.userAgent },
            body,
          },
          handler,
        );
      } catch (error) {
        handler.onResponseError(undefined, error as Error);
      }
    });
  }

  private target(url: string): { origin: string; path: string } {
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (this.targets.size >= 1000) this.targets.clear();
      this.targets.set(url, target);
    }
    return target;
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

/**
 * Collects one response: its status, headers and at most MAX_RESPONSE_BODY_BYTES of
 * its body, then drops the connection instead of draining a body of any size. The
 * whole attempt has one deadline; a body cut short (by the cap, the deadline or the
 * peer) still leaves the status code, which is what decides the outcome.
 */
class CappedResponse implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private statusCode: number | null = null;
  private headers: Record<string, string> | null = null;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly started: number,
    private readonly options: HttpSenderOptions,
    private readonly resolve: (result: SendResult) => void,
  ) {
    this.timer = setTimeout(() => this.timeout(), options.timeout);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The deadline passed while the request waited for a connection.
    if (this.settled) controller.abort(timeoutError(this.options));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx informational answers come first; only the final status counts.
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    this.headers = flattenHeaders(headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.size >= MAX_RESPONSE_BODY_BYTES) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= MAX_RESPONSE_BODY_BYTES) {
      this.finish(null);
      controller.abort(new Error('response body cap reached'));
    }
  }

  onResponseEnd(): void {
    this.finish(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.finish(error);
  }

  private timeout(): void {
    const error = timeoutError(this.options);
    this.finish(error);
    this.controller?.abort(error);
  }

  private finish(error: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    if (this.statusCode === null) {
      this.resolve(failure(error ?? new Error('the connection ended without a response'), this.started, this.options));
      return;
    }
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.resolve({
      statusCode: this.statusCode,
      headers: this.headers,
      body: body.subarray(0, MAX_RESPONSE_BODY_BYTES).toString('utf8'),
      durationMs: performance.now() - this.started,
      errorCode: null,
      error: null,
    });
  }
}

function timeoutError(options: HttpSenderOptions): Error {
  return Object.assign(new Error(`no response within ${options.timeout} ms`), { name: 'TimeoutError' });
}

function failure(error: unknown, started: number, options: HttpSenderOptions): SendResult {
  const { code, message } = describeError(error, options);
  return { statusCode: null, headers: null, body: null, durationMs: performance.now() - started, errorCode: code, error: message };
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ++count > 50) continue;
    out[name] = (Array.isArray(value) ? value.join(', ') : value).slice(0, 1024);
  }
  return out;
}

function describeError(error: unknown, options: HttpSenderOptions): { code: string; message: string } {
  const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const cause = e?.cause ?? e;
  if (e?.code === 'address_not_allowed' || cause?.code === 'address_not_allowed') return { code: 'address_not_allowed', message: cause.message };
  if (error instanceof undiciErrors.ConnectTimeoutError) {
    return { code: 'connect_timeout', message: `could not connect within ${options.connectTimeout} ms` };
  }
  if (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError
  ) {
    return { code: 'timeout', message: `no response within ${options.timeout} ms` };
  }
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return { code: 'connection_refused', message: `connection refused (${cause.message})` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code: 'dns_error', message: `could not resolve the host name (${cause.message})` };
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return { code: 'connection_reset', message: `the connection was closed before a response (${cause.message})` };
    default:
      break;
  }
  if (cause?.code?.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(cause?.message ?? '')) return { code: 'tls_error', message: cause.message };
  return { code: 'network_error', message: cause?.message ?? String(error) };
}
