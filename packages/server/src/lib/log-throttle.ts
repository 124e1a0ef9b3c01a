/**
 * At most one log line per key per interval, so a fault that repeats on every request or
 * every reconnect leaves a readable log. Each line says how many were held back before it.
 * Keys are bounded: past `maxKeys` the oldest are forgotten (they may then log once more).
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** `undefined` when this line should be dropped; otherwise the number of lines dropped since the last one. */
  take(key: string, now = Date.now()): number | undefined {
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.delete(key);
    this.last.set(key, { at: now, suppressed: 0 });
    if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string);
    return suppressed;
  }
}
