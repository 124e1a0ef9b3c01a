import { parseRetryAfter } from './backoff.js';
import { AbortError, AuthError, NetworkError, RateLimitedError, RequestError, ServerError } from './errors.js';
import type { Order } from './types.js';

/** Items per request the server takes (`POST /api/v2/orders/batch`). */
export const MAX_ITEMS_PER_REQUEST = 1000;

/** One write, as its single route would take it; `idempotencyKey` makes a retry of it safe. */
export type OrderWrite =
  | { kind: 'create'; body: Record<string, unknown>; idempotencyKey?: string }
  | { kind: 'transition'; orderId: string; body: { status: string; reason?: string | null; expectedVersion?: number }; idempotencyKey?: string };

/** One write's answer: what its single route would have answered. */
export type OrderWriteResult =
  | { ok: true; status: number; order: Order; replayed: boolean }
  | { ok: false; status: number; error: { code: string; message: string; details?: unknown } };

export interface WriteOrdersOptions {
  baseUrl: string;
  /** A project's secret key: batches are for backends, never for browsers. */
  secretKey: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Per request; a batch of 1,000 items on a busy server can take a few seconds. */
  timeoutMs?: number;
}

/**
 * Creates and moves many orders from a backend: the writes go in requests of up to
 * 1,000 items (`POST /api/v2/orders/batch`), one after another, so their order is kept,
 * and the results come back one per write, in order. A write the server refused (a 409,
 * a 404) is a result with `ok: false`, not an exception, so the other writes are kept;
 * a request the server refused whole, or that got no answer, throws, and the writes of
 * the requests before it have been applied. Give each write an `idempotencyKey` to
 * make sending them all again safe after such a throw.
 */
export async function writeOrders(writes: readonly OrderWrite[], options: WriteOrdersOptions): Promise<OrderWriteResult[]> {
  const results: OrderWriteResult[] = [];
  for (let start = 0; start < writes.length; start += MAX_ITEMS_PER_REQUEST) {
    results.push(...(await writeOnce(writes.slice(start, start + MAX_ITEMS_PER_REQUEST), options)));
  }
  return results;
}

async function writeOnce(items: readonly OrderWrite[], options: WriteOrdersOptions): Promise<OrderWriteResult[]> {
  const url = new URL('api/v2/orders/batch', options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.secretKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ items }),
      signal,
    });
    text = await response.text();
  } catch (error) {
    if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
    if (timeout.aborted) throw new NetworkError('request_timeout', `No answer from ${url.origin} within ${timeoutMs} ms`, { cause: error });
    throw new NetworkError('network_error', `Request to ${url.origin} failed: ${(error as Error)?.message ?? error}`, { cause: error });
  }
  let json: { data?: Array<{ status: number; replayed?: boolean; body: any }>; error?: { code: string; message: string; details?: unknown } } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const { status } = response;
  if (status === 200 && Array.isArray(json?.data) && json.data.length === items.length) {
    return json.data.map((item) =>
      item.status >= 200 && item.status < 300
        ? { ok: true, status: item.status, order: item.body as Order, replayed: item.replayed === true }
        : { ok: false, status: item.status, error: item.body?.error ?? { code: `http_${item.status}`, message: `HTTP ${item.status}` } },
    );
  }
  const code = json?.error?.code;
  const message = json?.error?.message ?? `HTTP ${status} from ${url.href}`;
  const details = { status, details: json?.error?.details };
  if (status === 401 || status === 403) throw new AuthError(code ?? 'unauthorized', message, details);
  if (status === 429) throw new RateLimitedError(message, parseRetryAfter(response.headers.get('retry-after')) ?? 1000, details);
  if (status >= 400 && status < 500) throw new RequestError(code ?? `http_${status}`, message, details);
  throw new ServerError(code ?? (status === 200 ? 'invalid_response' : 'server_error'), message, details);
}
