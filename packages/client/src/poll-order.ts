import { AbortError, TimeoutError } from './errors.js';
import { runPollLoop, type PollTuning } from './poll-loop.js';
import type { Credentials, Order } from './types.js';
import { requestStatusChanges } from './order-request.js';
import { FillingGate, VersionGate } from './version-gate.js';
import { documentVisibility } from './visibility.js';

export interface PollOrderOptions extends PollTuning {
  /** Where Ordercast runs, e.g. `https://orders.example.com`. */
  baseUrl: string;
  credentials: Credentials;
  /** Called once per new version, oldest first, including the first snapshot. */
  onUpdate?: (order: Order) => void;
  signal?: AbortSignal;
  /** Reject with a TimeoutError if the order is not final by then. Default: wait indefinitely. */
  maxWaitMs?: number;
}

/**
 * Follows one order over REST until its status is final in the project's lifecycle,
 * and resolves with that final order. Rejects with OrderNotFoundError or AuthError at
 * once, with TimeoutError at `maxWaitMs`, with AbortError on abort, and with the last
 * ServerError/NetworkError after `maxConsecutiveErrors` failures in a row.
 */
export function pollOrder(orderId: string, options: PollOrderOptions): Promise<Order> {
  const gate = new FillingGate(new VersionGate(), (after, before) =>
    requestStatusChanges({ baseUrl: options.baseUrl, credentials: options.credentials, orderId, fetch: options.fetch }, after, before),
  );
  const stop = new AbortController();
  let lastError: unknown;

  return new Promise<Order>((resolve, reject) => {
    const finish = (outcome: { order: Order } | { error: unknown }) => {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
      if ('order' in outcome) resolve(outcome.order);
      else reject(outcome.error);
    };
    const onAbort = () => finish({ error: new AbortError('pollOrder was aborted', { cause: options.signal?.reason }) });
    const deadline =
      options.maxWaitMs === undefined
        ? undefined
        : setTimeout(
            () => finish({ error: new TimeoutError(`Order ${orderId} was not final after ${options.maxWaitMs} ms`, { cause: lastError }) }),
            options.maxWaitMs,
          );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    runPollLoop({
      ...options,
      visibility: options.visibility ?? documentVisibility(),
      orderId,
      signal: stop.signal,
      knownVersion: () => gate.version,
      onRetry: (error, attempt, delayMs) => {
        lastError = error;
        options.onRetry?.(error, attempt, delayMs);
      },
      onOrder: (arrival) =>
        gate.admit(arrival, (order) => {
          if (stop.signal.aborted) return;
          try {
            options.onUpdate?.(order);
          } catch (error) {
            return finish({ error });
          }
          if (order.final) finish({ order });
        }),
    }).then(
      () => undefined,
      (error) => finish({ error }),
    );
  });
}
