import type { Interest, LogHint } from './broker.js';

export interface InterestObserver {
  /** The first follower of `interest` arrived. */
  opened?(interest: Interest): void;
  /** The last follower of `interest` left. */
  closed?(interest: Interest): void;
}

/**
 * The projects and orders this node's readers follow, counted, so a broker knows
 * which hints from other processes are worth waking for (and, with Redis, which
 * channels to subscribe to). Projects and orders are counted apart, by their ids as
 * they are: a hint is matched on every message from another node, so matching builds
 * no key string.
 */
export class InterestSet {
  private readonly projects = new Map<string, number>();
  private readonly orders = new Map<string, number>();

  constructor(private readonly observer: InterestObserver = {}) {}

  follow(interest: Interest): () => void {
    const [counts, id] = 'orderId' in interest ? [this.orders, interest.orderId] : [this.projects, interest.projectId];
    const count = counts.get(id) ?? 0;
    counts.set(id, count + 1);
    if (count === 0) this.observer.opened?.(interest);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (counts.get(id) ?? 1) - 1;
      if (left > 0) {
        counts.set(id, left);
        return;
      }
      counts.delete(id);
      this.observer.closed?.(interest);
    };
  }

  /** Whether a hint concerns something followed here. */
  matches(hint: LogHint): boolean {
    return this.projects.has(hint.projectId) || (hint.orderId !== undefined && this.orders.has(hint.orderId));
  }

  /** Every followed interest (to subscribe again after a reconnect). */
  *all(): Iterable<Interest> {
    for (const projectId of this.projects.keys()) yield { projectId };
    for (const orderId of this.orders.keys()) yield { orderId };
  }

  get size(): number {
    return this.projects.size + this.orders.size;
  }
}

/** Ids as Ordercast makes them (`prj_…`, `ord_…`); anything else in a hint from outside is not ours. */
const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** Reads a hint from another process, or `undefined` when it is not a well-formed one. */
export function parseHint(value: unknown): LogHint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { projectId, orderId } = value as Record<string, unknown>;
  if (typeof projectId !== 'string' || !ID.test(projectId)) return undefined;
  if (orderId !== undefined && (typeof orderId !== 'string' || !ID.test(orderId))) return undefined;
  return orderId === undefined ? { projectId } : { projectId, orderId };
}
