import { Agent, errors as undiciErrors, request } from 'undici';
import { guardedConnector } from './ssrf-guard.js';

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
 * SSRF guard. Redirects are never followed (undici's request does not follow
 * them), and the response body is read only up to the cap.
 */
export class HttpSender {
  private readonly agent: Agent;

  constructor(private readonly options: HttpSenderOptions) {
    this.agent = new Agent({
      connect: guardedConnector({ allowPrivate: options.allowPrivate, connectTimeout: options.connectTimeout }),
      headersTimeout: options.timeout,
      bodyTimeout: options.timeout,
      keepAliveTimeout: 10_000,
      connections: 32,
    });
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const signal = AbortSignal.timeout(this.options.timeout);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { ...headers, 'content-type': 'application/json', 'user-agent': this.options.userAgent },
        body,
        signal,
      });
      const text = await readCapped(response.body, MAX_RESPONSE_BODY_BYTES, signal);
      return {
        statusCode: response.statusCode,
        headers: flattenHeaders(response.headers),
        body: text,
        durationMs: performance.now() - started,
        errorCode: null,
        error: null,
      };
    } catch (error) {
      const { code, message } = describeError(error, this.options);
      return { statusCode: null, headers: null, body: null, durationMs: performance.now() - started, errorCode: code, error: message };
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

/** Reads at most `limit` bytes, then drops the connection instead of draining a body of any size. */
async function readCapped(body: NodeJS.ReadableStream & { destroy(): void }, limit: number, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit || signal.aborted) break;
    }
  } catch {
    // A body cut short still leaves the status code, which is what decides the outcome.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
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
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
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
