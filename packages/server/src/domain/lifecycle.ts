import { parseDuration } from './duration.js';
import { OrdercastError } from './errors.js';
import { parseStatusDisplay, type StatusDisplay } from './status-display.js';

/**
 * A lifecycle is the state machine an order's status follows.
 * `eventNames` maps each status to the event name webhooks and sockets carry
 * when an order enters it; `createdEventName` is the name of the creation event.
 */
export interface Lifecycle {
  name: string;
  statuses: string[];
  initial: string[];
  final: string[];
  transitions: Record<string, string[]>;
  createdEventName: string;
  eventNames: Record<string, string>;
  /** How long an order should stay in a non-final status ("10m", "2h", "3d"); past it the order is stuck (docs/timing.md). */
  expectedWithin: Record<string, string>;
  /** Optional: per status and locale, the `label` and `description` a buyer sees (domain/status-display.ts). */
  display?: StatusDisplay;
}

/** What a user may write: event names are optional and default to `order_created` / `order_<status>`. */
export interface LifecycleInput {
  name?: unknown;
  statuses?: unknown;
  initial?: unknown;
  final?: unknown;
  transitions?: unknown;
  createdEventName?: unknown;
  eventNames?: unknown;
  expectedWithin?: unknown;
  display?: unknown;
}

const STATUS_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const EVENT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;

function stringList(value: unknown, field: string, problems: string[]): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    problems.push(`${field} must be an array of strings`);
    return [];
  }
  return value as string[];
}

/**
 * Validates a lifecycle definition and fills in default event names.
 * Throws `invalid_lifecycle` listing every problem found, not just the first.
 */
export function parseLifecycle(input: unknown): Lifecycle {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new OrdercastError('invalid_lifecycle', 'A lifecycle must be a JSON object', { problems: ['not an object'] });
  }
  const raw = input as LifecycleInput;
  const name = typeof raw.name === 'string' && raw.name.trim() !== '' ? raw.name.trim() : 'custom';
  const statuses = stringList(raw.statuses, 'statuses', problems);
  const initial = stringList(raw.initial, 'initial', problems);
  const final = stringList(raw.final, 'final', problems);
  const known = new Set(statuses);

  if (statuses.length === 0) problems.push('statuses must list at least one status');
  const seen = new Set<string>();
  for (const s of statuses) {
    if (!STATUS_PATTERN.test(s)) problems.push(`status "${s}" must match ${STATUS_PATTERN}`);
    if (seen.has(s)) problems.push(`status "${s}" is listed twice`);
    seen.add(s);
  }
  if (initial.length === 0) problems.push('initial must list at least one status');
  if (final.length === 0) problems.push('final must list at least one status');
  for (const s of initial) if (!known.has(s)) problems.push(`initial status "${s}" is not in statuses`);
  for (const s of final) if (!known.has(s)) problems.push(`final status "${s}" is not in statuses`);

  const transitions: Record<string, string[]> = {};
  if (typeof raw.transitions !== 'object' || raw.transitions === null || Array.isArray(raw.transitions)) {
    problems.push('transitions must be an object mapping a status to the statuses it may move to');
  } else {
    for (const [from, targets] of Object.entries(raw.transitions as Record<string, unknown>)) {
      if (!known.has(from)) problems.push(`transitions: "${from}" is not in statuses`);
      const list = stringList(targets, `transitions.${from}`, problems);
      for (const to of list) if (!known.has(to)) problems.push(`transitions: "${from}" -> "${to}": "${to}" is not in statuses`);
      if (final.includes(from) && list.length > 0) problems.push(`transitions: "${from}" is final and cannot have transitions`);
      if (list.includes(from)) problems.push(`transitions: "${from}" cannot transition to itself`);
      transitions[from] = [...new Set(list)];
    }
  }
  for (const s of statuses) {
    if (!final.includes(s) && (transitions[s] ?? []).length === 0) {
      problems.push(`status "${s}" is not final but has no transitions out of it (orders would be stuck)`);
    }
  }
  const reachable = new Set(initial.filter((s) => known.has(s)));
  const queue = [...reachable];
  while (queue.length > 0) {
    const from = queue.shift() as string;
    for (const to of transitions[from] ?? []) {
      if (!reachable.has(to) && known.has(to)) {
        reachable.add(to);
        queue.push(to);
      }
    }
  }
  for (const s of statuses) if (!reachable.has(s)) problems.push(`status "${s}" is unreachable from the initial statuses`);

  const createdEventName = typeof raw.createdEventName === 'string' ? raw.createdEventName : 'order_created';
  if (!EVENT_NAME_PATTERN.test(createdEventName)) problems.push(`createdEventName must match ${EVENT_NAME_PATTERN}`);
  const eventNames: Record<string, string> = {};
  const givenNames = raw.eventNames ?? {};
  if (typeof givenNames !== 'object' || givenNames === null || Array.isArray(givenNames)) {
    problems.push('eventNames must be an object mapping a status to an event name');
  } else {
    for (const key of Object.keys(givenNames)) if (!known.has(key)) problems.push(`eventNames: "${key}" is not in statuses`);
    for (const s of statuses) {
      const given = (givenNames as Record<string, unknown>)[s];
      const eventName = given === undefined ? `order_${s}` : given;
      if (typeof eventName !== 'string' || !EVENT_NAME_PATTERN.test(eventName)) {
        problems.push(`eventNames.${s} must be a string matching ${EVENT_NAME_PATTERN}`);
      } else {
        eventNames[s] = eventName;
      }
    }
  }

  const expectedWithin = parseExpectedWithin(raw.expectedWithin, known, final, problems);
  const display = parseStatusDisplay(raw.display, known, problems);

  if (problems.length > 0) {
    throw new OrdercastError('invalid_lifecycle', `Invalid lifecycle: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
      problems,
    });
  }
  for (const s of statuses) transitions[s] ??= [];
  return { name, statuses, initial, final, transitions, createdEventName, eventNames, expectedWithin, ...(display ? { display } : {}) };
}

function parseExpectedWithin(value: unknown, known: Set<string>, final: string[], problems: string[]): Record<string, string> {
  const expectedWithin: Record<string, string> = {};
  if (value === undefined) return expectedWithin;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('expectedWithin must be an object mapping a non-final status to a duration such as "10m"');
    return expectedWithin;
  }
  for (const [status, given] of Object.entries(value as Record<string, unknown>)) {
    if (!known.has(status)) problems.push(`expectedWithin: "${status}" is not in statuses`);
    else if (final.includes(status)) problems.push(`expectedWithin: "${status}" is final: an order never leaves it, so it cannot be late`);
    const parsed = parseDuration(given);
    if (!parsed.ok) problems.push(`expectedWithin.${status} ${parsed.problem}`);
    else expectedWithin[status] = given as string;
  }
  return expectedWithin;
}

export function isFinalStatus(lifecycle: Lifecycle, status: string): boolean {
  return lifecycle.final.includes(status);
}

export function allowedNextStatuses(lifecycle: Lifecycle, status: string): string[] {
  return lifecycle.transitions[status] ?? [];
}

/** Throws the error a user should see when `from -> to` is not allowed. */
export function assertTransition(lifecycle: Lifecycle, from: string, to: string): void {
  if (!lifecycle.statuses.includes(to)) {
    throw new OrdercastError('unknown_status', `"${to}" is not a status of the ${lifecycle.name} lifecycle`, {
      status: to,
      statuses: lifecycle.statuses,
    });
  }
  const allowed = allowedNextStatuses(lifecycle, from);
  if (!allowed.includes(to)) {
    const why = isFinalStatus(lifecycle, from) ? `"${from}" is a final status` : `allowed next statuses: ${allowed.join(', ')}`;
    throw new OrdercastError('invalid_transition', `Cannot move an order from ${from} to ${to}: ${why}`, {
      currentStatus: from,
      requestedStatus: to,
      allowedNextStatuses: allowed,
    });
  }
}

export function assertInitialStatus(lifecycle: Lifecycle, status: string): void {
  if (!lifecycle.statuses.includes(status)) {
    throw new OrdercastError('unknown_status', `"${status}" is not a status of the ${lifecycle.name} lifecycle`, {
      status,
      statuses: lifecycle.statuses,
    });
  }
  if (!lifecycle.initial.includes(status)) {
    throw new OrdercastError('invalid_initial_status', `An order cannot start in ${status}; initial statuses: ${lifecycle.initial.join(', ')}`, {
      status,
      initialStatuses: lifecycle.initial,
    });
  }
}
