/**
 * When to try a failed delivery again. `schedule[n]` is the wait before attempt
 * n+1; jitter spreads retries of a failed burst so they do not arrive together.
 */
export class RetrySchedule {
  constructor(
    private readonly schedule: number[],
    private readonly jitter: number,
    private readonly maxRetryAfter: number,
    private readonly random: () => number = Math.random,
  ) {}

  get attempts(): number {
    return this.schedule.length;
  }

  /**
   * Milliseconds to wait before the next attempt after `attemptsMade` attempts
   * of this schedule cycle, or undefined when the delivery should be given up.
   * A receiver's `Retry-After` (429/503) lengthens the wait, up to maxRetryAfter.
   */
  nextDelay(attemptsMade: number, retryAfterMs?: number): number | undefined {
    const base = this.schedule[attemptsMade];
    if (base === undefined) return undefined;
    const spread = base * this.jitter * (this.random() * 2 - 1);
    const delay = Math.max(0, Math.round(base + spread));
    if (retryAfterMs === undefined) return delay;
    return Math.max(delay, Math.min(retryAfterMs, this.maxRetryAfter));
  }
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`; undefined if absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
