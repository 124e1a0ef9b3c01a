/**
 * Every failure the SDK reports is one of these classes, each with a stable `code`,
 * so callers branch with `instanceof` or on `code` instead of parsing messages.
 */
export class OrdercastClientError extends Error {
  readonly code: string;
  /** HTTP status when the failure came from an HTTP answer. */
  readonly status?: number;
  readonly details?: unknown;

  constructor(code: string, message: string, options: { status?: number; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.details = options.details;
  }
}

/** The order does not exist, or these credentials may not see it. Retrying will not help. */
export class OrderNotFoundError extends OrdercastClientError {}

/** The credentials were refused (unknown key, bad or expired token, forbidden). Retrying will not help. */
export class AuthError extends OrdercastClientError {}

/** The server answered something the SDK cannot use: a 5xx, HTML instead of JSON, a malformed order. */
export class ServerError extends OrdercastClientError {}

/** The request never got an HTTP answer (connection refused, reset, DNS). */
export class NetworkError extends OrdercastClientError {}

/** The request was refused by the server for a reason retrying does not fix (a 4xx other than the above). */
export class RequestError extends OrdercastClientError {}

/** `maxWaitMs` elapsed before the order reached a final status. */
export class TimeoutError extends OrdercastClientError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('timeout', message, options);
  }
}

/** The caller aborted through its AbortSignal. Named `AbortError` like the platform's own. */
export class AbortError extends OrdercastClientError {
  constructor(message = 'The operation was aborted', options: { cause?: unknown } = {}) {
    super('aborted', message, options);
  }
}

/** Errors worth another attempt after a pause; everything else stops the loop. */
export function isRetryable(error: unknown): boolean {
  return error instanceof NetworkError || error instanceof ServerError || (error instanceof OrdercastClientError && error.code === 'rate_limited');
}

/** The server asked us to slow down (429); `retryAfterMs` comes from its `Retry-After` header. */
export class RateLimitedError extends OrdercastClientError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options: { status?: number; details?: unknown } = {}) {
    super('rate_limited', message, options);
    this.retryAfterMs = retryAfterMs;
  }
}
