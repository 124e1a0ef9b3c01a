import type { ErrorCode } from './errors.js';
import { allowedNextStatuses, isFinalStatus, type Lifecycle } from './lifecycle.js';
import type { ValidNewOrder } from './new-order.js';
import type { Order, OrderEvent, StatusHistoryEntry } from './order.js';
import { timingOf } from './order-timing.js';

/** The event name (and type) of an order still in its status past its expected time. */
export const ORDER_STUCK = 'order.stuck';

/**
 * How many of the latest status changes an order carries in `statusHistory`, on every
 * channel (REST, webhooks, sockets). The whole history is the event log, read in pages
 * (`GET /orders/{id}/events`); a bounded window keeps the cost of the 2,000th change the
 * same as the 5th.
 */
export const RECENT_HISTORY_LIMIT = 10;

/** An expected "no" (a routine 409, 404 or 400): returned as a value, never thrown. */
export interface Refusal {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** What an order is now: the projection the store keeps beside the log. */
export type OrderState = Omit<Order, 'object' | 'final'>;

/** The one event a decision appends: an event of the log before it has a place in it. `order` is the order right after it. */
export type DecidedEvent = Pick<OrderEvent, 'id' | 'type' | 'eventName' | 'fromStatus' | 'toStatus' | 'reason' | 'version' | 'order'> & { at: string };

export type Decision = { ok: true; event: DecidedEvent } | { ok: false; refusal: Refusal };

export interface TransitionCommand {
  status: string;
  reason: string | null;
  expectedVersion?: number;
}

function refuse(code: ErrorCode, message: string, details?: Record<string, unknown>): Decision {
  return { ok: false, refusal: { code, message, details } };
}

export function orderView(state: OrderState, lifecycle: Lifecycle): Order {
  return { ...state, object: 'order', final: isFinalStatus(lifecycle, state.status) };
}

function withEntry(history: readonly StatusHistoryEntry[], entry: StatusHistoryEntry): StatusHistoryEntry[] {
  const kept = history.length >= RECENT_HISTORY_LIMIT ? history.slice(history.length - RECENT_HISTORY_LIMIT + 1) : history;
  return [...kept, entry];
}

/** Whether `status` is one an order of this lifecycle may be created in. */
export function refuseInitialStatus(lifecycle: Lifecycle, status: string): Refusal | undefined {
  if (!lifecycle.statuses.includes(status)) {
    return {
      code: 'unknown_status',
      message: `"${status}" is not a status of the ${lifecycle.name} lifecycle`,
      details: { status, statuses: lifecycle.statuses },
    };
  }
  if (!lifecycle.initial.includes(status)) {
    return {
      code: 'invalid_initial_status',
      message: `An order cannot start in ${status}; initial statuses: ${lifecycle.initial.join(', ')}`,
      details: { status, initialStatuses: lifecycle.initial },
    };
  }
  return undefined;
}

/** Creating an order: its first event, or why not. Ids and time come from the caller, so this stays pure. */
export function decideCreate(
  lifecycle: Lifecycle,
  input: ValidNewOrder & { projectId: string },
  ids: { orderId: string; eventId: string },
  at: string,
): Decision {
  const status = input.status ?? (lifecycle.initial[0] as string);
  const refusal = refuseInitialStatus(lifecycle, status);
  if (refusal) return { ok: false, refusal };
  const state: OrderState = {
    id: ids.orderId,
    projectId: input.projectId,
    externalId: input.externalId,
    userExternalId: input.userExternalId,
    amount: input.amount,
    currency: input.currency,
    metadata: input.metadata,
    status,
    version: 1,
    createdAt: at,
    updatedAt: at,
    statusHistory: [{ status, reason: null, at, version: 1 }],
    ...timingOf(lifecycle, status, at),
    stuck: false,
  };
  return {
    ok: true,
    event: {
      id: ids.eventId,
      type: 'order.created',
      eventName: lifecycle.createdEventName,
      fromStatus: null,
      toStatus: status,
      reason: null,
      version: 1,
      at,
      order: orderView(state, lifecycle),
    },
  };
}

/** Moving an order to a new status: the event it appends, or the refusal a user sees. */
export function decideTransition(
  lifecycle: Lifecycle,
  current: OrderState | undefined,
  command: TransitionCommand,
  ids: { orderId: string; eventId: string },
  at: string,
): Decision {
  if (!current) return refuse('order_not_found', `No order ${ids.orderId}`, { orderId: ids.orderId });
  if (command.expectedVersion !== undefined && command.expectedVersion !== current.version) {
    return refuse('version_conflict', `The order is at version ${current.version}, not ${command.expectedVersion}`, {
      currentVersion: current.version,
      currentStatus: current.status,
    });
  }
  const to = command.status;
  if (!lifecycle.statuses.includes(to)) {
    return refuse('unknown_status', `"${to}" is not a status of the ${lifecycle.name} lifecycle`, { status: to, statuses: lifecycle.statuses });
  }
  const allowed = allowedNextStatuses(lifecycle, current.status);
  if (!allowed.includes(to)) {
    const why = isFinalStatus(lifecycle, current.status)
      ? `"${current.status}" is a final status`
      : to === current.status
        ? `the order is already ${to}; allowed next statuses: ${allowed.join(', ')}`
        : `allowed next statuses: ${allowed.join(', ')}`;
    return refuse('invalid_transition', `Cannot move an order from ${current.status} to ${to}: ${why}`, {
      currentStatus: current.status,
      requestedStatus: to,
      allowedNextStatuses: allowed,
      currentVersion: current.version,
    });
  }
  const version = current.version + 1;
  const next: OrderState = {
    ...current,
    status: to,
    version,
    updatedAt: at,
    statusHistory: withEntry(current.statusHistory, { status: to, reason: command.reason, at, version }),
    ...timingOf(lifecycle, to, at),
    stuck: false,
  };
  return {
    ok: true,
    event: {
      id: ids.eventId,
      type: 'order.status_changed',
      eventName: lifecycle.eventNames[to] as string,
      fromStatus: current.status,
      toStatus: to,
      reason: command.reason,
      version,
      at,
      order: orderView(next, lifecycle),
    },
  };
}

/** The sweeper's command: the order at `expectedVersion` is past its `expectedBy`. */
export interface StuckCommand {
  expectedVersion: number;
}

/**
 * Flagging an order as stuck: appended once per order version. Any other version means
 * the order moved on (or another process flagged it first): a refusal, so nothing is written.
 */
export function decideStuck(
  lifecycle: Lifecycle,
  current: OrderState | undefined,
  command: StuckCommand,
  ids: { orderId: string; eventId: string },
  at: string,
): Decision {
  if (!current) return refuse('order_not_found', `No order ${ids.orderId}`, { orderId: ids.orderId });
  if (current.version !== command.expectedVersion || current.stuck) {
    return refuse('version_conflict', `The order is at version ${current.version}, not ${command.expectedVersion}`, {
      currentVersion: current.version,
      currentStatus: current.status,
    });
  }
  // Whether the time has come is the sweeper's clock to say (the due index), not this one's.
  if (current.expectedBy === null || isFinalStatus(lifecycle, current.status)) {
    return refuse('invalid_transition', `The order is not past an expected time in ${current.status}`, { currentStatus: current.status });
  }
  const version = current.version + 1;
  const next: OrderState = { ...current, version, updatedAt: at, stuck: true };
  return {
    ok: true,
    event: {
      id: ids.eventId,
      type: ORDER_STUCK,
      eventName: ORDER_STUCK,
      fromStatus: current.status,
      toStatus: current.status,
      reason: `expected by ${current.expectedBy}`,
      version,
      at,
      order: orderView(next, lifecycle),
    },
  };
}
