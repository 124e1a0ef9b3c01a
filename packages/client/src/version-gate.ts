import type { Order } from './types.js';

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
   * The orders to deliver for an arrival, oldest first: nothing for a repeat or a stale copy;
   * for a jump (v2 then v5) the skipped versions rebuilt from `statusHistory`, then the arrival.
   * The first arrival is delivered alone: it is the current state, not a replay of the past.
   */
  admit(order: Order): Order[] {
    const previous = this.latest;
    if (previous && order.version <= previous.version) return [];
    this.latest = order;
    if (!previous) return [order];
    const skipped = order.statusHistory
      .filter((entry) => entry.version > previous.version && entry.version < order.version)
      .sort((a, b) => a.version - b.version)
      .map((entry): Order => ({
        ...order,
        status: entry.status,
        version: entry.version,
        updatedAt: entry.at,
        // Only the newest status can be final: a final status has no way out.
        final: false,
        statusHistory: order.statusHistory.filter((earlier) => earlier.version <= entry.version),
      }));
    return [...skipped, order];
  }
}
