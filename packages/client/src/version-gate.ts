import type { Order } from './types.js';

/**
 * Lets an order through only if its version is newer than every version seen before.
 * Sockets, long-polls and reconnect catch-ups can deliver the same change twice or out of
 * order; this one gate is why a caller never sees a version twice or an older after a newer.
 */
export class VersionGate {
  private latest: Order | undefined;

  get current(): Order | undefined {
    return this.latest;
  }

  get version(): number | undefined {
    return this.latest?.version;
  }

  /** True (and remembered) when `order` is newer than anything seen; false for repeats and stale copies. */
  admit(order: Order): boolean {
    if (this.latest && order.version <= this.latest.version) return false;
    this.latest = order;
    return true;
  }
}
