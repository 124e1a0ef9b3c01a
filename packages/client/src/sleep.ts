/**
 * Waits `ms`, or less: resolves early when `signal` aborts or when `wake` fires
 * (used to poll at once when a hidden tab becomes visible). Never rejects, so callers
 * decide what an abort means; the timer is always cleared.
 */
export function sleep(ms: number, signal?: AbortSignal, wake?: (listener: () => void) => () => void): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    let unsubscribeWake: (() => void) | undefined;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      unsubscribeWake?.();
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    unsubscribeWake = wake?.(done);
  });
}
