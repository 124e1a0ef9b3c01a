import type { Order } from '../domain/order.js';

/** One order as the polling route answers it: the ETag at once, the JSON body rendered on first use and kept. */
export interface CachedOrder {
  readonly projectId: string;
  readonly order: Order;
  readonly etag: string;
  /** When it was offered (ms since the epoch): older entries are read again. */
  readonly cachedAt: number;
  body: string | undefined;
  bytes: number;
}

/** What an order costs before its body is rendered: the object graph is a few times its JSON. */
const UNRENDERED_BYTES = 4096;
/** A rendered entry keeps the object and its JSON: count the string twice (UTF-16 at worst) plus the object. */
const renderedBytes = (body: string) => 512 + body.length * 4;

export function etagOf(version: number): string {
  return `"v${version}"`;
}

/**
 * The newest known state of recently read or changed orders, bounded in bytes, least
 * recently used out first. It is kept right by what this process sees: its own
 * appends (so a writer reads its change back at once) and the log follower (so a
 * change made by another process shows once the follower has read it). An entry is
 * only ever replaced by a higher version, so a slow read can never put an older
 * state back over a newer one the follower has already offered.
 */
export class OrderReadCache {
  private readonly entries = new Map<string, CachedOrder>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  /**
   * `maxAgeMs` bounds how long a state changed without a new version elsewhere (an
   * order expunged by another process) can still be served: such an entry is read again.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly maxAgeMs = 30_000,
  ) {}

  get sizeBytes(): number {
    return this.bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached order, counting the hit or miss; a hit becomes the most recently used. */
  lookup(orderId: string): CachedOrder | undefined {
    const entry = this.entries.get(orderId);
    if (!entry || Date.now() - entry.cachedAt > this.maxAgeMs) {
      if (entry) this.remove(orderId, entry);
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(orderId);
    this.entries.set(orderId, entry);
    return entry;
  }

  /** The cached order without counting it or refreshing its place. */
  peek(orderId: string): CachedOrder | undefined {
    return this.entries.get(orderId);
  }

  /** Offers a state of an order; kept unless the cache already holds this version or a later one. */
  offer(projectId: string, order: Order): void {
    if (this.maxBytes <= 0) return;
    const current = this.entries.get(order.id);
    if (current) {
      const expired = Date.now() - current.cachedAt > this.maxAgeMs;
      if (current.order.version > order.version || (current.order.version === order.version && !expired)) return;
    }
    if (current) this.remove(order.id, current);
    const entry = new Entry(projectId, order);
    this.entries.set(order.id, entry);
    this.bytes += entry.bytes;
    this.evict();
  }

  /** The body of an entry, rendered once by `render` and then kept. */
  bodyOf(entry: CachedOrder, render: (order: Order) => string): string {
    if (entry.body === undefined) {
      entry.body = render(entry.order);
      const bytes = renderedBytes(entry.body);
      if (this.entries.get(entry.order.id) === entry) this.bytes += bytes - entry.bytes;
      entry.bytes = bytes;
      this.evict();
    }
    return entry.body;
  }

  /** Drops an order whose stored state changed without a new version (its personal data wiped, on this process). */
  forget(orderId: string): void {
    const entry = this.entries.get(orderId);
    if (entry) this.remove(orderId, entry);
  }

  private remove(orderId: string, entry: CachedOrder): void {
    this.entries.delete(orderId);
    this.bytes -= entry.bytes;
  }

  private evict(): void {
    for (const [orderId, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      this.remove(orderId, entry);
    }
  }
}

class Entry implements CachedOrder {
  readonly etag: string;
  readonly cachedAt = Date.now();
  body: string | undefined = undefined;
  bytes = UNRENDERED_BYTES;

  constructor(
    readonly projectId: string,
    readonly order: Order,
  ) {
    this.etag = etagOf(order.version);
  }
}
