import type { Lifecycle } from '../domain/lifecycle.js';
import type { ValidNewOrder } from '../domain/new-order.js';
import {
  decideCreate,
  decideStuck,
  decideTransition,
  type DecidedEvent,
  type Decision,
  type OrderState,
  type Refusal,
  type TransitionCommand,
} from '../domain/order-decisions.js';
import type { OrderEvent } from '../domain/order.js';
import { withTimingDefaults } from '../domain/order-timing.js';
import { eventPayloadJson } from '../domain/webhook-payload.js';
import { initialChannelEpoch } from './repositories/channel-offsets.js';

/** A retry-safety key: the first answer under it is kept and replayed for the same request. */
export interface IdempotencyClaim {
  key: string;
  /** Hash of the request; the same key with another hash is refused. */
  requestHash: string;
  /** Records created before this time have lapsed and are replaced. */
  lapsedBefore: string;
}

export type AppendCommand = (
  | { kind: 'create'; projectId: string; lifecycle: Lifecycle; order: ValidNewOrder; idempotency?: IdempotencyClaim }
  | { kind: 'transition'; projectId: string; lifecycle: Lifecycle; orderId: string; change: TransitionCommand; idempotency?: IdempotencyClaim }
  /** The timing sweeper's: the order at `expectedVersion` is past its expected time (services/order-timing-sweeper.ts). */
  | { kind: 'stuck'; projectId: string; lifecycle: Lifecycle; orderId: string; expectedVersion: number; idempotency?: undefined }
) & {
  /** Who caused the event, as stored (domain/actor.ts encodeActor); written to the event's `actor` column. */
  actor?: string;
  /** The W3C traceparent of the append's span, stored with the event (tracing on only). */
  traceContext?: string;
};

/** What appending one command did. Every expected "no" is a value, never an exception. */
export type AppendOutcome =
  | { kind: 'appended'; event: OrderEvent /** Webhook outbox rows written with it. */; deliveries: number }
  | { kind: 'replayed'; statusCode: number; body: unknown }
  | { kind: 'refused'; refusal: Refusal };

/**
 * The one write path of orders. Each command is decided (domain/order-decisions.ts)
 * against the order's current state, then its event, the order's projection, the
 * webhook outbox rows and the idempotency record are written together. A refusal
 * writes nothing and never disturbs another command. Resolves once committed.
 */
export interface OrderLog {
  append(command: AppendCommand, ids: { orderId: string; eventId: string }): Promise<AppendOutcome>;
  /**
   * Several commands as one unit, in order: they join the same batch (one transaction,
   * one flush), a later command sees what an earlier one appended, and each gets its
   * own answer; a database failure is the answer of the commands it left undecided.
   */
  appendMany(commands: readonly AppendRequest[]): Promise<AppendResult[]>;
}

export interface AppendRequest {
  command: AppendCommand;
  ids: { orderId: string; eventId: string };
}

/** One command's answer within appendMany: its outcome, or the database error that left it undone. */
export type AppendResult = { ok: true; outcome: AppendOutcome } | { ok: false; error: unknown };

/** What the store needs of an idempotency record to replay or refuse. */
export interface StoredIdempotency {
  requestHash: string;
  statusCode: number;
  responseBody: string;
  createdAt: string;
}

/** The replay or refusal an existing idempotency record calls for; undefined when the command should run. */
export function idempotencyOutcome(claim: IdempotencyClaim | undefined, stored: StoredIdempotency | undefined): AppendOutcome | 'lapsed' | undefined {
  if (!claim || !stored) return undefined;
  if (stored.createdAt < claim.lapsedBefore) return 'lapsed';
  if (stored.requestHash !== claim.requestHash) {
    return {
      kind: 'refused',
      refusal: {
        code: 'idempotency_key_reused',
        message: 'This Idempotency-Key was already used with a different request; use a new key for a new request',
        details: { idempotencyKey: claim.key },
      },
    };
  }
  return { kind: 'replayed', statusCode: stored.statusCode, body: withTimingDefaults(JSON.parse(stored.responseBody)) };
}

export function decide(command: AppendCommand, current: OrderState | undefined, ids: { orderId: string; eventId: string }, at: string): Decision {
  if (command.kind === 'create') return decideCreate(command.lifecycle, { ...command.order, projectId: command.projectId }, ids, at);
  if (command.kind === 'stuck') return decideStuck(command.lifecycle, current, command, { ...ids, orderId: command.orderId }, at);
  return decideTransition(command.lifecycle, current, command.change, { ...ids, orderId: command.orderId }, at);
}

export function externalIdTaken(externalId: string): AppendOutcome {
  return {
    kind: 'refused',
    refusal: { code: 'external_id_taken', message: `An order with externalId "${externalId}" already exists in this project`, details: { externalId } },
  };
}

/** Everything a dialect writes for one decided event, serialised once. */
export interface EventRecord {
  event: DecidedEvent;
  orderJson: string;
  historyJson: string;
  metadataJson: string;
  /** `"eventName"`: how an endpoint's JSON list of enabled events names it. */
  quotedEventName: string;
  /** The epoch a user channel starts with, if this event opens it. */
  channelEpoch: string | null;
  /** The answer replayed for this command's idempotency key. */
  statusCode: number;
  /** The command's actor, as stored; null when none was given. */
  actorJson: string | null;
  traceContext: string | null;
}

export function eventRecord(command: AppendCommand, event: DecidedEvent): EventRecord {
  const orderJson = JSON.stringify(event.order);
  const user = event.order.userExternalId;
  return {
    event,
    orderJson,
    historyJson: JSON.stringify(event.order.statusHistory),
    metadataJson: JSON.stringify(event.order.metadata),
    quotedEventName: JSON.stringify(event.eventName),
    channelEpoch: user === null ? null : initialChannelEpoch(command.projectId, user),
    statusCode: command.kind === 'create' ? 201 : 200,
    actorJson: command.actor ?? null,
    traceContext: command.traceContext ?? null,
  };
}

/** The webhook body for the event's outbox rows: built only when some endpoint wants the event. */
export function payloadJsonOf(record: EventRecord): string {
  const { event } = record;
  return eventPayloadJson(event.id, event.eventName, event.at, record.orderJson);
}

export function loggedEvent(record: EventRecord, positions: { seq: number; txId: number; userOffset: number | null }): OrderEvent {
  const { event } = record;
  return {
    id: event.id,
    seq: positions.seq,
    txId: positions.txId,
    projectId: event.order.projectId,
    orderId: event.order.id,
    type: event.type,
    eventName: event.eventName,
    fromStatus: event.fromStatus,
    toStatus: event.toStatus,
    reason: event.reason,
    version: event.version,
    userExternalId: event.order.userExternalId,
    userOffset: positions.userOffset,
    createdAt: event.at,
    order: event.order,
    actor: record.actorJson,
    traceContext: record.traceContext,
  };
}
