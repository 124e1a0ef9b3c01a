import { durationMs } from './duration.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * When an order should leave its status (`expectedBy`) and when it should reach a
 * successful end (`eta`), from the lifecycle's `expectedWithin`.
 *
 * The happy path from a status follows the first transition listed out of each status
 * until a final one: lifecycles list the way forward first (onramp: AWAITING_PAYMENT_FROM_USER
 * → PAYMENT_DONE_MARKED_BY_USER → PROCESSING → PENDING_DELIVERY → COMPLETED). The ETA is the
 * current deadline plus the expected durations of the statuses after it on that path;
 * unknown (null) when one of them has no expected duration.
 */
export interface OrderTiming {
  expectedBy: string | null;
  eta: string | null;
}

export const NO_TIMING: OrderTiming = { expectedBy: null, eta: null };

/** Whether orders of this lifecycle can become stuck (and so emit `order.stuck`). */
export function hasExpectedTimes(lifecycle: Lifecycle): boolean {
  return Object.keys(lifecycle.expectedWithin ?? {}).length > 0;
}

export function expectedWithinMs(lifecycle: Lifecycle, status: string): number | undefined {
  const text = lifecycle.expectedWithin?.[status];
  return text === undefined ? undefined : durationMs(text);
}

/** The timing of an order that entered `status` at `enteredAt`. */
export function timingOf(lifecycle: Lifecycle, status: string, enteredAt: string): OrderTiming {
  if (lifecycle.final.includes(status)) return NO_TIMING;
  const within = expectedWithinMs(lifecycle, status);
  if (within === undefined) return NO_TIMING;
  const entered = Date.parse(enteredAt);
  const expectedBy = new Date(entered + within).toISOString();
  let total = within;
  const seen = new Set([status]);
  let next = lifecycle.transitions[status]?.[0];
  while (next !== undefined && !lifecycle.final.includes(next)) {
    const step = expectedWithinMs(lifecycle, next);
    if (step === undefined || seen.has(next)) return { expectedBy, eta: null };
    seen.add(next);
    total += step;
    next = lifecycle.transitions[next]?.[0];
  }
  return { expectedBy, eta: next === undefined ? null : new Date(entered + total).toISOString() };
}

/**
 * An order stored before orders had timing (an event's snapshot, a remembered idempotent
 * answer, written before migration 0014) reads as one without a deadline, so every order
 * any channel carries has the fields its schema requires.
 */
export function withTimingDefaults<T extends { expectedBy?: string | null; eta?: string | null; stuck?: boolean }>(order: T): T {
  order.expectedBy ??= null;
  order.eta ??= null;
  order.stuck ??= false;
  return order;
}

/** How late an order is at `now`, in whole seconds; 0 when it is not late. */
export function secondsLate(expectedBy: string | null, now: number): number {
  if (expectedBy === null) return 0;
  return Math.max(0, Math.floor((now - Date.parse(expectedBy)) / 1000));
}
