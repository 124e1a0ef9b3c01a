import { parseRetryAfter } from './backoff.js';
import { restAuthorization } from './credentials.js';
import { AbortError, AuthError, NetworkError, OrderNotFoundError, RateLimitedError, RequestError, ServerError } from './errors.js';
import { looksLikeOrder } from './order-shape.js';
import type { Credentials, Order, StatusHistoryEntry } from './types.js';

export interface OrderRequest {
  baseUrl: string;
  credentials: Credentials;
  orderId: string;
  /** Sent as `If-None-Match: "v<version>"`: the server answers 304 while this is still current. */
  knownVersion?: number;
  /** Long-poll: the server holds the request up to this many seconds (0 = answer at once). */
  waitForChangeSeconds?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export type OrderResponse = { kind: 'order'; order: Order } | { kind: 'not_modified' };

/** A long-poll the server holds for N seconds gets this much longer before we call the network dead. */
const REQUEST_GRACE_MS = 10_000;
const BODY_EXCERPT_LENGTH = 120;

/** One GET of an order, with every way it can fail turned into a typed error. */
export async function requestOrder(request: OrderRequest): Promise<OrderResponse> {
  const wait = request.waitForChangeSeconds ?? 0;
  const url = new URL(`api/v2/orders/${encodeURIComponent(request.orderId)}`, withTrailingSlash(request.baseUrl));
  if (wait > 0) url.searchParams.set('waitForChange', String(wait));
  const headers: Record<string, string> = { authorization: restAuthorization(request.credentials), accept: 'application/json' };
  if (request.knownVersion !== undefined) headers['if-none-match'] = `"v${request.knownVersion}"`;

  // A dropped connection can leave fetch waiting forever; bound every request.
  const timeout = AbortSignal.timeout(wait * 1000 + REQUEST_GRACE_MS);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await (request.fetch ?? fetch)(url, { headers, signal });
    text = response.status === 304 ? '' : await response.text();
  } catch (error) {
    if (request.signal?.aborted) throw new AbortError(undefined, { cause: request.signal.reason });
    if (timeout.aborted)
      throw new NetworkError('request_timeout', `No answer from ${url.origin} within ${wait * 1000 + REQUEST_GRACE_MS} ms`, { cause: error });
    throw new NetworkError('network_error', `Request to ${url.origin} failed: ${(error as Error)?.message ?? error}`, { cause: error });
  }
  if (response.status === 304) return { kind: 'not_modified' };
  return { kind: 'order', order: interpret(response, text) };
}

function interpret(response: Response, text: string): Order {
  const { status } = response;
  const json = parseJson(text);
  const apiError = json !== undefined ? readApiError(json) : undefined;

  if (status >= 200 && status < 300) {
    if (json === undefined) throw notJson(response, text);
    if (!looksLikeOrder(json)) throw new ServerError('invalid_response', `Expected an order from ${response.url}, got ${excerpt(text)}`, { status });
    return json;
  }
  const code = apiError?.code;
  const message = apiError?.message ?? `HTTP ${status} from ${response.url}${json === undefined ? `: ${excerpt(text)}` : ''}`;
  const options = { status, details: apiError?.details };
  if (status === 404 && code === 'order_not_found') throw new OrderNotFoundError(code, message, options);
  if (status === 401 || status === 403) throw new AuthError(code ?? (status === 401 ? 'unauthorized' : 'forbidden'), message, options);
  if (status === 429) throw new RateLimitedError(message, parseRetryAfter(response.headers.get('retry-after')) ?? 1000, options);
  if (status >= 500 || status === 408) {
    if (json === undefined && text) throw notJson(response, text);
    throw new ServerError(code ?? 'server_error', message, options);
  }
  // Any other 4xx (a wrong baseUrl's 404, a validation error) will answer the same way next time.
  throw new RequestError(code ?? `http_${status}`, message, options);
}

function notJson(response: Response, text: string): ServerError {
  const type = response.headers.get('content-type') ?? 'no content type';
  return new ServerError('invalid_response', `Expected JSON from ${response.url} (HTTP ${response.status}), got ${type}: ${excerpt(text)}`, {
    status: response.status,
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readApiError(json: unknown): { code: string; message: string; details?: unknown } | undefined {
  const error = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (!error || typeof error.code !== 'string') return undefined;
  return { code: error.code, message: typeof error.message === 'string' ? error.message : error.code, details: error.details };
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > BODY_EXCERPT_LENGTH ? `${flat.slice(0, BODY_EXCERPT_LENGTH)}…` : flat);
}

function withTrailingSlash(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
}

/**
 * Status changes of one order after `afterVersion` and before `beforeVersion`, from its
 * events (`GET /orders/{id}/events`), for versions older than an order's bounded
 * `statusHistory`. Best effort: on any failure it returns what it has.
 */
export async function requestStatusChanges(
  request: Omit<OrderRequest, 'knownVersion' | 'waitForChangeSeconds'>,
  afterVersion: number,
  beforeVersion: number,
): Promise<StatusHistoryEntry[]> {
  const entries: StatusHistoryEntry[] = [];
  let after = afterVersion;
  try {
    while (after < beforeVersion - 1) {
      const url = new URL(`api/v2/orders/${encodeURIComponent(request.orderId)}/events`, withTrailingSlash(request.baseUrl));
      url.searchParams.set('afterVersion', String(after));
      url.searchParams.set('limit', String(Math.min(1000, beforeVersion - 1 - after)));
      const signal = request.signal ? AbortSignal.any([request.signal, AbortSignal.timeout(REQUEST_GRACE_MS)]) : AbortSignal.timeout(REQUEST_GRACE_MS);
      const response = await (request.fetch ?? fetch)(url, {
        headers: { authorization: restAuthorization(request.credentials), accept: 'application/json' },
        signal,
      });
      if (!response.ok) break;
      const page = (await response.json()) as {
        data?: Array<{ toStatus: string; reason: string | null; createdAt: string; version: number }>;
        hasMore?: boolean;
      };
      const events = (page.data ?? []).filter((e) => e.version > after && e.version < beforeVersion);
      if (events.length === 0) break;
      for (const e of events) entries.push({ status: e.toStatus, reason: e.reason, at: e.createdAt, version: e.version });
      after = events[events.length - 1]!.version;
      if (!page.hasMore) break;
    }
  } catch {
    // The versions that could not be read are skipped, as before the history was bounded.
  }
  return entries;
}
