import type { Transaction } from 'kysely';
import { OrdercastError } from '../domain/errors.js';
import { assertInitialStatus, assertTransition, type Lifecycle } from '../domain/lifecycle.js';
import { validateNewOrder, type NewOrderInput } from '../domain/new-order.js';
import type { Order, OrderEvent, StatusHistoryEntry } from '../domain/order.js';
import type { Broker } from '../events/broker.js';
import type { OrderWatchers } from '../events/order-watchers.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { nextChannelOffset } from '../store/repositories/channel-offsets.js';
import { deleteIdempotencyRecord, findIdempotencyRecord, insertIdempotencyRecord } from '../store/repositories/idempotency-keys.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './idempotency-retention.js';
import { insertEvent, listOrderEvents, type NewEvent } from '../store/repositories/order-events.js';
import {
  findOrderRow,
  findOrderRowByExternalId,
  insertOrder,
  listOrderRows,
  rowToOrder,
  updateOrderStatusIfVersion,
} from '../store/repositories/orders.js';
import { isUniqueViolation } from '../store/transaction.js';
import type { ProjectService } from './project-service.js';
import { canonicalJson, newId, sha256Hex } from './random.js';

/**
 * Runs inside the write transaction for every new event, so that whatever it
 * writes (webhook deliveries, for instance) commits or rolls back with the event.
 */
export type EventWriteHook = (trx: Transaction<Database>, event: OrderEvent) => Promise<void>;

export interface OrderServiceObserver {
  orderCreated?(order: Order): void;
  orderTransitioned?(event: OrderEvent): void;
}

/** Limits what a reader may see: a user token reads only that user's orders. */
export interface ReadScope {
  userExternalId?: string;
}

export interface TransitionInput {
  status: string;
  reason?: string | null;
  expectedVersion?: number;
}

export interface OrderPage {
  object: 'list';
  data: Order[];
  hasMore: boolean;
  nextCursor: string | null;
}

export interface OrderListQuery {
  status?: string;
  userExternalId?: string;
  externalId?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  cursor?: string;
}

export interface CreateResult {
  order: Order;
  /** True when an Idempotency-Key matched an earlier request and its response is replayed. */
  replayed: boolean;
  statusCode: number;
  body: unknown;
}

export const MAX_PAGE_SIZE = 100;
export const MAX_REASON_LENGTH = 1000;
const MAX_TRANSITION_ATTEMPTS = 20;

function encodeCursor(seq: number): string {
  return Buffer.from(`o:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^o:(\d{1,15})$/.exec(text);
  if (!match || Buffer.from(text).toString('base64url') !== cursor) {
    throw new OrdercastError('invalid_cursor', 'The cursor is not one this API returned: pass nextCursor from a previous page unchanged');
  }
  return Number(match[1]);
}

function requireIsoDate(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new OrdercastError('validation_failed', `${field} must be an ISO-8601 date or time, such as 2026-01-31T12:00:00Z`, { field });
  }
  return date.toISOString();
}

export class OrderService {
  private readonly hooks: EventWriteHook[] = [];

  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
    private readonly broker: Broker,
    private readonly watchers: OrderWatchers,
    private readonly observer: OrderServiceObserver = {},
  ) {}

  /** Registers work that must commit atomically with every event. */
  addEventWriteHook(hook: EventWriteHook): void {
    this.hooks.push(hook);
  }

  async create(projectId: string, input: NewOrderInput, idempotencyKey?: string): Promise<CreateResult> {
    const project = await this.projects.get(projectId);
    const valid = validateNewOrder(input);
    const status = valid.status ?? (project.lifecycle.initial[0] as string);
    assertInitialStatus(project.lifecycle, status);
    const requestHash = idempotencyKey ? sha256Hex(canonicalJson(input)) : '';

    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.store.write(async (trx) => {
          if (idempotencyKey) {
            let previous = await findIdempotencyRecord(trx, projectId, idempotencyKey);
            if (previous && Date.parse(previous.createdAt) < Date.now() - IDEMPOTENCY_KEY_TTL_MS) {
              await deleteIdempotencyRecord(trx, projectId, idempotencyKey);
              previous = undefined;
            }
            if (previous) {
              if (previous.requestHash !== requestHash) {
                throw new OrdercastError(
                  'idempotency_key_reused',
                  'This Idempotency-Key was already used with a different request body; use a new key for a new order',
                  { idempotencyKey },
                );
              }
              const body = JSON.parse(previous.responseBody) as Order;
              return { order: body, replayed: true, statusCode: previous.statusCode, body, event: undefined };
            }
          }
          if (valid.externalId !== null && (await findOrderRowByExternalId(trx, projectId, valid.externalId))) {
            throw new OrdercastError('external_id_taken', `An order with externalId "${valid.externalId}" already exists in this project`, {
              externalId: valid.externalId,
            });
          }
          const now = new Date().toISOString();
          const history: StatusHistoryEntry[] = [{ status, reason: null, at: now, version: 1 }];
          const row = await insertOrder(trx, { id: newId('ord'), projectId, ...valid, status, history, createdAt: now });
          const order = rowToOrder(row, project.lifecycle);
          const event = await this.appendEvent(trx, project.lifecycle, order, null, null, now);
          if (idempotencyKey) {
            await insertIdempotencyRecord(trx, {
              projectId,
              key: idempotencyKey,
              requestHash,
              statusCode: 201,
              responseBody: JSON.stringify(order),
              createdAt: now,
            });
          }
          return { order, replayed: false, statusCode: 201, body: order, event };
        });
        if (result.event) this.afterCommit(result.event);
        if (!result.replayed) this.observer.orderCreated?.(result.order);
        return { order: result.order, replayed: result.replayed, statusCode: result.statusCode, body: result.body };
      } catch (error) {
        // Two requests with one Idempotency-Key raced (on the key or on their shared
        // externalId): the loser runs again and replays the winner's answer.
        if (idempotencyKey && attempt < 3 && isUniqueViolation(error)) continue;
        if (isUniqueViolation(error, 'external_id')) {
          throw new OrdercastError('external_id_taken', `An order with externalId "${valid.externalId}" already exists in this project`, {
            externalId: valid.externalId,
          });
        }
        throw error;
      }
    }
  }

  /**
   * Moves an order to a new status. Writers race with compare-and-set on the
   * version: the loser re-reads and re-validates, so no update is ever lost.
   */
  async transition(projectId: string, orderId: string, input: TransitionInput): Promise<Order> {
    const project = await this.projects.get(projectId);
    if (typeof input.status !== 'string' || input.status === '') {
      throw new OrdercastError('validation_failed', 'status is required', { field: 'status' });
    }
    const reason = input.reason ?? null;
    if (reason !== null && (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH)) {
      throw new OrdercastError('validation_failed', `reason must be a string of at most ${MAX_REASON_LENGTH} characters`, { field: 'reason' });
    }
    for (let attempt = 1; attempt <= MAX_TRANSITION_ATTEMPTS; attempt++) {
      const result = await this.store.write(async (trx) => {
        const row = await findOrderRow(trx, projectId, orderId);
        if (!row) throw new OrdercastError('order_not_found', `No order ${orderId}`, { orderId });
        if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
          throw new OrdercastError('version_conflict', `The order is at version ${row.version}, not ${input.expectedVersion}`, {
            currentVersion: row.version,
            currentStatus: row.status,
          });
        }
        assertTransition(project.lifecycle, row.status, input.status);
        const now = new Date().toISOString();
        const history = [...(JSON.parse(row.history) as StatusHistoryEntry[]), { status: input.status, reason, at: now, version: row.version + 1 }];
        const updated = await updateOrderStatusIfVersion(trx, row.id, row.version, { status: input.status, history, updatedAt: now });
        if (!updated) return undefined;
        const order = rowToOrder(updated, project.lifecycle);
        const event = await this.appendEvent(trx, project.lifecycle, order, row.status, reason, now);
        return { order, event };
      });
      if (result) {
        this.afterCommit(result.event);
        this.observer.orderTransitioned?.(result.event);
        return result.order;
      }
    }
    throw new OrdercastError('version_conflict', 'The order is being changed by many writers at once; try again', { orderId });
  }

  private async appendEvent(
    trx: Transaction<Database>,
    lifecycle: Lifecycle,
    order: Order,
    fromStatus: string | null,
    reason: string | null,
    at: string,
  ): Promise<OrderEvent> {
    const userOffset = order.userExternalId ? await nextChannelOffset(trx, order.projectId, order.userExternalId) : null;
    const created = fromStatus === null;
    const draft: NewEvent = {
      id: newId('evt'),
      projectId: order.projectId,
      orderId: order.id,
      type: created ? 'order.created' : 'order.status_changed',
      eventName: created ? lifecycle.createdEventName : (lifecycle.eventNames[order.status] as string),
      fromStatus,
      toStatus: order.status,
      reason,
      version: order.version,
      userExternalId: order.userExternalId,
      userOffset,
      createdAt: at,
      order,
    };
    const event = await insertEvent(trx, draft);
    for (const hook of this.hooks) await hook(trx, event);
    return event;
  }

  private afterCommit(event: OrderEvent): void {
    this.broker.publish(event);
  }

  async get(projectId: string, orderId: string, scope: ReadScope = {}): Promise<Order> {
    const project = await this.projects.get(projectId);
    const row = await this.store.readOrderRow(projectId, orderId);
    // Another user's order looks exactly like a missing one.
    if (!row || (scope.userExternalId !== undefined && row.user_external_id !== scope.userExternalId)) {
      throw new OrdercastError('order_not_found', `No order ${orderId}`, { orderId });
    }
    return rowToOrder(row, project.lifecycle);
  }

  /**
   * Long-poll: returns as soon as the order's version differs from
   * `knownVersion`, or the current order once `timeoutMs` has passed.
   */
  async waitForChange(projectId: string, orderId: string, knownVersion: number, timeoutMs: number, scope: ReadScope = {}, signal?: AbortSignal): Promise<Order> {
    const deadline = Date.now() + timeoutMs;
    let order = await this.get(projectId, orderId, scope);
    while (order.version === knownVersion && Date.now() < deadline && !signal?.aborted) {
      await this.watchers.waitOnce(orderId, Math.min(1000, deadline - Date.now()), signal);
      order = await this.get(projectId, orderId, scope);
    }
    return order;
  }

  async list(projectId: string, query: OrderListQuery, scope: ReadScope = {}): Promise<OrderPage> {
    const project = await this.projects.get(projectId);
    const limit = query.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`, { field: 'limit' });
    }
    if (query.status !== undefined && !project.lifecycle.statuses.includes(query.status)) {
      throw new OrdercastError('unknown_status', `"${query.status}" is not a status of the ${project.lifecycle.name} lifecycle`, {
        status: query.status,
        statuses: project.lifecycle.statuses,
      });
    }
    if (scope.userExternalId !== undefined && query.userExternalId !== undefined && query.userExternalId !== scope.userExternalId) {
      return { object: 'list', data: [], hasMore: false, nextCursor: null };
    }
    const rows = await listOrderRows(this.store.db, {
      projectId,
      status: query.status,
      userExternalId: scope.userExternalId ?? query.userExternalId,
      externalId: query.externalId,
      createdAfter: requireIsoDate(query.createdAfter, 'createdAfter'),
      createdBefore: requireIsoDate(query.createdBefore, 'createdBefore'),
      beforeSeq: query.cursor !== undefined ? decodeCursor(query.cursor) : undefined,
      limit: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    return {
      object: 'list',
      data: page.map((row) => rowToOrder(row, project.lifecycle)),
      hasMore,
      nextCursor: hasMore ? encodeCursor(page[page.length - 1]!.seq) : null,
    };
  }

  async events(projectId: string, orderId: string, scope: ReadScope = {}): Promise<OrderEvent[]> {
    await this.get(projectId, orderId, scope);
    return listOrderEvents(this.store.db, orderId);
  }
}
