/*
 * What a webhook attempt's result means: for its delivery (done, retry when, or give up) and
 * for its endpoint's health (failing, recovered, disabled). Pure: the dispatcher sends and
 * stores; every decision on what it got back is made here, from values it passes in.
 */

/** What an attempt got back, as the sender saw it. */
export interface AttemptResult {
  /** The HTTP status, or null when there was no response (timeout, refused, reset, TLS, DNS). */
  statusCode: number | null;
  /** The `Retry-After` header as received, if any. */
  retryAfter?: string | undefined;
}

/** The retry schedule: `delaysMs[n]` is the wait before attempt n+1 of a delivery. */
export interface RetryPolicy {
  delaysMs: readonly number[];
  /** Each wait is moved by up to this fraction either way, so a failed burst does not retry together. */
  jitter: number;
  /** The longest wait a receiver's `Retry-After` can ask for. */
  maxRetryAfterMs: number;
}

export type AttemptDecision =
  | { status: 'succeeded' }
  | { status: 'pending'; retryInMs: number }
  /** `gone`: the receiver answered 410, asking us to stop (the endpoint is disabled); `exhausted`: the schedule ran out. */
  | { status: 'failed'; reason: 'gone' | 'exhausted' };

export function isSuccess(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode < 300;
}

/**
 * The delivery's next step after its `attemptsMade`th attempt (this one included).
 * `random` is a sample from [0, 1) for the jitter; `nowMs` reads an HTTP-date `Retry-After`.
 */
export function decideAttemptOutcome(result: AttemptResult, attemptsMade: number, policy: RetryPolicy, nowMs: number, random: number): AttemptDecision {
  if (isSuccess(result.statusCode)) return { status: 'succeeded' };
  if (result.statusCode === 410) return { status: 'failed', reason: 'gone' };
  const base = policy.delaysMs[attemptsMade];
  if (base === undefined) return { status: 'failed', reason: 'exhausted' };
  const scheduled = Math.max(0, Math.round(base + base * policy.jitter * (random * 2 - 1)));
  // Only an overloaded receiver's answer says when to come back: it may lengthen the wait, never shorten it.
  const asked = result.statusCode === 429 || result.statusCode === 503 ? parseRetryAfter(result.retryAfter, nowMs) : undefined;
  return { status: 'pending', retryInMs: asked === undefined ? scheduled : Math.max(scheduled, Math.min(asked, policy.maxRetryAfterMs)) };
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `nowMs`; undefined if absent or unreadable. */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** An endpoint's run of failures, before and after a batch of failed attempts to it. */
export interface FailureRun {
  failuresBefore: number;
  failuresAfter: number;
  /** When the run's first failure happened (ms since the epoch). */
  failingSinceMs: number;
  nowMs: number;
}

export interface HealthRules {
  /** Failed attempts in a row that make an endpoint failing: `endpoint.failing`, and its lane narrows to one probe. */
  failingAfter: number;
  /** An endpoint failing this long is disabled. */
  disableAfterMs: number;
}

export type HealthChange =
  /** Nothing to announce. */
  | { kind: 'unchanged' }
  /** It has just become failing: announce `endpoint.failing`; from now on one probe at a time. */
  | { kind: 'failing' }
  /** It has failed for too long: disable it (and announce `endpoint.disabled`). */
  | { kind: 'disable'; reason: string; alsoFailing: boolean };

/** What a run of failed attempts does to their endpoint. */
export function decideHealthAfterFailures(run: FailureRun, rules: HealthRules): HealthChange {
  const becameFailing = run.failuresBefore < rules.failingAfter && run.failuresAfter >= rules.failingAfter;
  if (run.nowMs - run.failingSinceMs >= rules.disableAfterMs) {
    return { kind: 'disable', reason: `every attempt failed since ${new Date(run.failingSinceMs).toISOString()}`, alsoFailing: becameFailing };
  }
  return becameFailing ? { kind: 'failing' } : { kind: 'unchanged' };
}

/**
 * What a successful attempt does to an endpoint that had `failuresBefore` failures in a row.
 * A recovered endpoint (one that was failing) gets `endpoint.recovered`, and its backlog,
 * which waited on the retry schedule while it failed, is due again at once, in order.
 */
export function decideHealthAfterSuccess(failuresBefore: number, rules: Pick<HealthRules, 'failingAfter'>): { kind: 'unchanged' } | { kind: 'recovered' } {
  return failuresBefore >= rules.failingAfter ? { kind: 'recovered' } : { kind: 'unchanged' };
}

/** How many attempts to an endpoint may be in flight at once: one probe while it is failing, its lane's width otherwise. */
export function laneWidth(consecutiveFailures: number, ownWidth: number | null, defaultWidth: number, failingAfter: number): number {
  return consecutiveFailures >= failingAfter ? 1 : (ownWidth ?? defaultWidth);
}
