export interface BackoffOptions {
  /** The first retry waits up to this long. */
  baseMs: number;
  /** No retry ever waits longer than this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/**
 * "Full jitter" (AWS, Exponential Backoff and Jitter): a uniformly random pause in
 * [0, min(cap, base·2^attempt)). Spreading retries over the whole window is what keeps
 * thousands of clients that failed together from retrying together.
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` is either delay-seconds or an HTTP-date; anything else means "no advice". */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
