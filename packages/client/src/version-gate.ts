import type { Order, StatusHistoryEntry } from './types.js';

/**
 * Decides what the caller sees: each version once, in order. Sockets, long-polls and
 * reconnect catch-ups can deliver the same change twice or out of order, and a poll can
 * jump several versions at once; this one gate is why none of that reaches the caller.
 */
export class VersionGate {
  private latest: Order | undefined;

  get current(): Order | undefined {
    return this.latest;
  }

  get version(): number | undefined {
    return this.latest?.version;
  }

  /**
   * The versions an arrival skips that its `statusHistory` (the latest few changes) does
   * not cover: the caller reads them from the order's events and passes them to `admit`.
   */
  missing(order: Order): { afterVersion: number; beforeVersion: number } | undefined {
    const previous = this.latest;
    if (!previous || order.version <= previous.version + 1) return undefined;
    const oldestKnown = Math.min(order.version, ...order.statusHistory.map((entry) => entry.version));
    return oldestKnown > previous.version + 1 ? { afterVersion: previous.version, beforeVersion: oldestKnown } : undefined;
  }

  /**
   * The orders to deliver for an arrival, oldest first: nothing for a repeat or a stale copy;
   * for a jump (v2 then v5) the skipped versions rebuilt from `statusHistory` and from
   * `earlier` (what `missing` asked for), then the arrival.
   * The first arrival is delivered alone: it is the current state, not a replay of the past.
   */
  admit(order: Order, earlier: readonly StatusHistoryEntry[] = []): Order[] {
    const previous = this.latest;
    if (previous && order.version <= previous.version) return [];
    this.latest = order;
    if (!previous) return [order];
    const known = new Map<number, StatusHistoryEntry>();
    for (const entry of [...earlier, ...order.statusHistory]) known.set(entry.version, entry);
    const history = [...known.values()].sort((a, b) => a.version - b.version);
    const skipped = history
      .filter((entry) => entry.version > previous.version && entry.version < order.version)
      .map(
        (entry): Order => ({
          ...order,
          status: entry.status,
          version: entry.version,
          updatedAt: entry.at,
          // Only the newest status can be final: a final status has no way out.
          final: false,
          statusHistory: order.statusHistory.filter((recent) => recent.version <= entry.version),
        }),
      );
    return [...skipped, order];
  }
}

/**
 * Admits arrivals one at a time, reading versions older than an arrival's history from
 * the order's events first, so every version still reaches the caller once and in order.
 */
export class FillingGate {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly gate: VersionGate,
    private readonly readEarlier: (afterVersion: number, beforeVersion: number) => Promise<StatusHistoryEntry[]>,
  ) {}

  get version(): number | undefined {
    return this.gate.version;
  }

  admit(arrival: Order, deliver: (order: Order) => void): void {
    this.chain = this.chain.then(async () => {
      const missing = this.gate.missing(arrival);
      const earlier = missing ? await this.readEarlier(missing.afterVersion, missing.beforeVersion) : [];
      for (const order of this.gate.admit(arrival, earlier)) deliver(order);
    });
  }
}
