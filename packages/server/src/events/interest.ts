import type { Interest, LogHint } from './broker.js';

type Key = string;

const keyOf = (interest: Interest): Key => ('orderId' in interest ? `o:${interest.orderId}` : `p:${interest.projectId}`);

export interface InterestObserver {
  /** The first follower of `interest` arrived. */
  opened?(interest: Interest): void;
  /** The last follower of `interest` left. */
  closed?(interest: Interest): void;
}

/**
 * The projects and orders this node's readers follow, counted, so a broker knows
 * which hints from other processes are worth waking for (and, with Redis, which
 * channels to subscribe to).
 */
export class InterestSet {
  private readonly counts = new Map<Key, number>();

  constructor(private readonly observer: InterestObserver = {}) {}

  follow(interest: Interest): () => void {
    const key = keyOf(interest);
    const count = this.counts.get(key) ?? 0;
    this.counts.set(key, count + 1);
    if (count === 0) this.observer.opened?.(interest);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left > 0) {
        this.counts.set(key, left);
        return;
      }
      this.counts.delete(key);
      this.observer.closed?.(interest);
    };
  }

  /** Whether a hint concerns something followed here. */
  matches(hint: LogHint): boolean {
    return this.counts.has(`p:${hint.projectId}`) || (hint.orderId !== undefined && this.counts.has(`o:${hint.orderId}`));
  }

  /** Every followed interest (to subscribe again after a reconnect). */
  *all(): Iterable<Interest> {
    for (const key of this.counts.keys()) yield key.startsWith('o:') ? { orderId: key.slice(2) } : { projectId: key.slice(2) };
  }

  get size(): number {
    return this.counts.size;
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
