import { OrdercastError } from '../domain/errors.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import { validateNewOrder, type NewOrderInput } from '../domain/new-order.js';
import { refuseInitialStatus, type Refusal } from '../domain/order-decisions.js';
import type { Order } from '../domain/order.js';
import { encodeActor, type Actor } from '../domain/actor.js';
import type { AppendCommand, IdempotencyClaim } from '../store/order-log.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { sha256Hex } from '../lib/hashing.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency-retention.js';

export const MAX_REASON_LENGTH = 1000;
/** Items in one `POST /orders/batch`. */
export const MAX_BATCH_ITEMS = 1000;

export interface TransitionInput {
  status: string;
  reason?: string | null;
  expectedVersion?: number;
}

/** One item of a batch: what its single route would take, and that route's Idempotency-Key. */
export type BatchItem =
  | { kind: 'create'; body: NewOrderInput; idempotencyKey?: string }
  | { kind: 'transition'; orderId: string; body: TransitionInput; idempotencyKey?: string };

/** Carries who asks on the command, to be written on its event (the `actor` column). */
export function withActor(command: AppendCommand, actor: Actor | undefined): AppendCommand {
  return actor ? { ...command, actor: encodeActor(actor) } : command;
}

/** The answer to a write: the order, or, for a repeated Idempotency-Key, the first answer replayed. */
export interface WriteResult {
  /** True when an Idempotency-Key matched an earlier request and its response is replayed. */
  replayed: boolean;
  statusCode: number;
  body: Order;
}

/** One item's answer: its result, or the error its single route would have answered with. */
export type BatchItemResult = { ok: true; result: WriteResult } | { ok: false; error: unknown };

export function refusalError(refusal: Refusal): OrdercastError {
  return new OrdercastError(refusal.code, refusal.message, refusal.details);
}

/** The key's claim; the hash covers what the request asks, so the same key for another request is refused. */
function idempotencyClaim(key: string | undefined, request: unknown): IdempotencyClaim | undefined {
  if (key === undefined) return undefined;
  return { key, requestHash: sha256Hex(canonicalJson(request)), lapsedBefore: new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS).toISOString() };
}

export function createCommand(project: { id: string; lifecycle: Lifecycle }, input: NewOrderInput, idempotencyKey: string | undefined): AppendCommand {
  const order = validateNewOrder(input);
  // Checked before the key is claimed, so a refused body never takes the key.
  const refusal = refuseInitialStatus(project.lifecycle, order.status ?? (project.lifecycle.initial[0] as string));
  if (refusal) throw refusalError(refusal);
  // The hash is the one the first releases stored: keys taken before the upgrade still replay.
  return { kind: 'create', projectId: project.id, lifecycle: project.lifecycle, order, idempotency: idempotencyClaim(idempotencyKey, input) };
}

function transitionChange(input: TransitionInput) {
  if (typeof input.status !== 'string' || input.status === '') {
    throw new OrdercastError('validation_failed', 'status is required', { field: 'status' });
  }
  const reason = input.reason ?? null;
  if (reason !== null && (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH)) {
    throw new OrdercastError('validation_failed', `reason must be a string of at most ${MAX_REASON_LENGTH} characters`, { field: 'reason' });
  }
  return { status: input.status, reason, expectedVersion: input.expectedVersion };
}

export function transitionCommand(
  project: { id: string; lifecycle: Lifecycle },
  orderId: string,
  input: TransitionInput,
  idempotencyKey: string | undefined,
): AppendCommand {
  const change = transitionChange(input);
  const claim = idempotencyClaim(idempotencyKey, { transition: orderId, ...change });
  return { kind: 'transition', projectId: project.id, lifecycle: project.lifecycle, orderId, change, idempotency: claim };
}

/**
 * Two items of one batch under one idempotency key must ask the same thing (the second
 * then replays the first); otherwise the whole batch is refused before anything is written.
 */
export function refuseReusedKeys(items: readonly BatchItem[]): void {
  const seen = new Map<string, { position: number; request: string }>();
  items.forEach((item, position) => {
    if (item.idempotencyKey === undefined) return;
    const request = canonicalJson(item.kind === 'create' ? { create: item.body } : { transition: item.orderId, ...item.body });
    const first = seen.get(item.idempotencyKey);
    if (!first) {
      seen.set(item.idempotencyKey, { position, request });
    } else if (first.request !== request) {
      throw new OrdercastError('idempotency_key_reused', `Items ${first.position} and ${position} use one idempotency key for different requests`, {
        idempotencyKey: item.idempotencyKey,
        items: [first.position, position],
      });
    }
  });
}
