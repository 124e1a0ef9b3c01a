import { DEFAULT_BACKOFF, fullJitterDelay, type BackoffOptions } from './backoff.js';
import { isRetryable, RateLimitedError } from './errors.js';
import { requestOrder } from './order-request.js';
import { sleep } from './sleep.js';
import type { Credentials, Order } from './types.js';
import type { VisibilitySource } from './visibility.js';

/** Tuning shared by `pollOrder` and the polling transport of `trackOrder`; every field has a sensible default. */
export interface PollTuning {
  /** Seconds the server may hold each long-poll (1–30). Default 25. */
  waitForChangeSeconds?: number;
  /** Full-jitter backoff after transport errors. Default base 500 ms, cap 30 s. */
  backoff?: BackoffOptions;
  /** Give up with the last error after this many failures in a row (429s do not count). Default 8. */
  maxConsecutiveErrors?: number;
  /** Never ask again sooner than this after an answer that brought nothing new. Default 1000 ms. */
  minIntervalMs?: number;
  /** While the page is hidden: plain checks this far apart instead of long-polls. Default 30 s. */
  hiddenIntervalMs?: number;
  /** The page's visibility; defaults to `document` in a browser, none in Node. */
  visibility?: VisibilitySource;
  /** Called before each retry, to log or show "reconnecting…". */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
}

export interface PollLoopOptions extends PollTuning {
  baseUrl: string;
  credentials: Credentials;
  orderId: string;
  /** The newest version the caller holds, so the server only answers with something newer. */
  knownVersion: () => number | undefined;
  onOrder: (order: Order) => void;
  /** The loop returns (without error) once this aborts. */
  signal: AbortSignal;
}

/**
 * Polls one order until `signal` aborts: a first plain GET for the snapshot, then
 * conditional long-polls. Transient failures back off with full jitter, 429s wait for
 * `Retry-After`; anything that retrying cannot fix (not found, auth) is thrown at once.
 */
export async function runPollLoop(options: PollLoopOptions): Promise<void> {
  const { signal, visibility } = options;
  const waitSeconds = Math.min(30, Math.max(1, Math.round(options.waitForChangeSeconds ?? 25)));
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const maxErrors = options.maxConsecutiveErrors ?? 8;
  const minInterval = options.minIntervalMs ?? 1000;
  const hiddenInterval = options.hiddenIntervalMs ?? 30_000;
  const wakeWhenVisible = visibility ? (listener: () => void) => visibility.onVisible(listener) : undefined;
  let failures = 0;

  while (!signal.aborted) {
    const hidden = visibility?.isHidden() ?? false;
    const known = options.knownVersion();
    const startedAt = Date.now();
    try {
      const response = await requestOrder({
        baseUrl: options.baseUrl,
        credentials: options.credentials,
        orderId: options.orderId,
        knownVersion: known,
        // Without a known version the server would wait for a change from whatever is
        // current, so the first request fetches the snapshot at once; hidden pages do not hold connections.
        waitForChangeSeconds: known === undefined || hidden ? 0 : waitSeconds,
        signal,
        fetch: options.fetch,
      });
      failures = 0;
      const changed = response.kind === 'order' && response.order.version !== known;
      if (response.kind === 'order') options.onOrder(response.order);
      if (signal.aborted) return;
      // A server (or proxy) that answers long-polls at once must not turn this into a busy loop.
      const pause = visibility?.isHidden() ? hiddenInterval : changed ? 0 : minInterval - (Date.now() - startedAt);
      await sleep(pause, signal, wakeWhenVisible);
    } catch (error) {
      if (signal.aborted) return;
      if (!isRetryable(error)) throw error;
      const rateLimited = error instanceof RateLimitedError;
      if (!rateLimited && ++failures >= maxErrors) throw error;
      // Retry-After is the server's explicit instruction; a little jitter on top keeps limited clients from returning in step.
      const delay = rateLimited ? error.retryAfterMs + fullJitterDelay(0, backoff) : fullJitterDelay(failures - 1, backoff);
      options.onRetry?.(error, failures, delay);
      await sleep(delay, signal);
    }
  }
}
