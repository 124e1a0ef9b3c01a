import { OrdercastError } from '../domain/errors.js';
import type { NewOrderInput } from '../domain/new-order.js';
import { MAX_PAGE_SIZE, type Order, type OrderEvent } from '../domain/order.js';
import type { Broker } from '../events/broker.js';
import type { Waiters } from '../events/waiters.js';
import type { Store } from '../store/database.js';
import type { AppendCommand, AppendOutcome, AppendRequest } from '../store/order-log.js';
import type { Actor } from '../domain/actor.js';
import { listOrderEvents } from '../store/repositories/order-events.js';
import { listOrderRows, rowToOrder } from '../store/repositories/orders.js';
import type { DueOrder } from '../store/repositories/order-deadlines.js';
import {
  createCommand,
  refusalError,
  refuseReusedKeys,
  transitionCommand,
  withActor,
  type BatchItem,
  type BatchItemResult,
  type TransitionInput,
  type WriteResult,
} from './order-commands.js';
import { OrderReadCache, type CachedOrder } from './order-read-cache.js';
import type { ProjectService } from './project-service.js';
import type { QuotaEnforcer } from './quota-enforcer.js';
import { newId } from '../lib/ids.js';
import { traceAppend, traceAppendMany } from './append-span.js';
import type { TraceParent } from '../lib/tracing.js';
import { decodePageCursor, encodePageCursor, isoTimeFilter } from './list-query.js';

export interface OrderServiceObserver {
  orderCreated?(order: Order): void;
  orderTransitioned?(event: OrderEvent): void;
}

/** Limits what a reader may see: a user token reads only that user's orders. */
export interface ReadScope {
  userExternalId?: string;
}

export interface OrderPage {
  object: 'list';
  data: Order[];
  hasMore: boolean;
  nextCursor: string | null;
}

/** How many statuses one orders list may ask for (`?status=A&status=B…`). */
export const MAX_STATUS_FILTER = 32;

export interface OrderListQuery {
  /** One status, or several: orders in any of them. */
  status?: string | string[];
  userExternalId?: string;
  externalId?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  cursor?: string;
  /** Only orders flagged stuck (true), or only the others (false). */
  stuck?: boolean;
}

export interface OrderEventPage {
  object: 'list';
  data: OrderEvent[];
  hasMore: boolean;
}

export { MAX_PAGE_SIZE };
export { MAX_BATCH_ITEMS, MAX_REASON_LENGTH, type BatchItem, type BatchItemResult, type TransitionInput, type WriteResult } from './order-commands.js';
export const MAX_EVENTS_PAGE = 1000;

function visible(entry: CachedOrder | undefined, projectId: string, scope: ReadScope): CachedOrder | undefined {
  if (!entry || entry.projectId !== projectId) return undefined;
  if (scope.userExternalId !== undefined && entry.order.userExternalId !== scope.userExternalId) return undefined;
  return entry;
}

/**
 * Orders' use cases. Writes are commands to the order log (store/order-log.ts): the
 * domain decides, the store appends, and refusals come back as values that become
 * the errors users see here. After a commit, a hint wakes the log followers.
 */
export class OrderService {
  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
    private readonly broker: Broker,
    private readonly orderWaiters: Waiters,
    private readonly observer: OrderServiceObserver = {},
    /** Recently read or changed orders: the polling path answers from it without the database. */
    readonly readCache: OrderReadCache = new OrderReadCache(0),
    /** Each project's write and metadata quotas, checked before anything is appended; none in a one-off CLI command. */
    private readonly quotas?: QuotaEnforcer,
  ) {}

  /** What the log follower read, written by this process or another: keeps the read cache right. */
  followed(event: OrderEvent): void {
    this.readCache.offer(event.projectId, event.order);
  }

  /**
   * The order from the read cache, when it holds it and the credential may see it;
   * undefined sends the caller to `get`, which answers a missing or foreign order
   * exactly as it always does. Synchronous, for the polling hot path.
   */
  cached(projectId: string, orderId: string, scope: ReadScope = {}): CachedOrder | undefined {
    return visible(this.readCache.lookup(orderId), projectId, scope);
  }

  /** `actor`: who asks (domain/actor.ts), kept on the event; `trace`: the span of the request, with tracing on. */
  async create(projectId: string, input: NewOrderInput, idempotencyKey?: string, actor?: Actor, trace?: TraceParent): Promise<WriteResult> {
    const project = await this.projects.get(projectId);
    const command = withActor(createCommand(project, input, idempotencyKey), actor);
    if (this.quotas) {
      const cached = this.quotas.quotasOf(projectId);
      // Awaited only when the cache has to be read: a cached project's write waits on nothing here.
      const quotas = cached instanceof Promise ? await cached : cached;
      this.quotas.admitMetadata(projectId, quotas, command.kind === 'create' ? command.order.metadata : undefined);
      this.quotas.admitWrites(projectId, quotas, 1);
    }
    return this.afterAppend(command, await this.append(command, trace));
  }

  /** Moves an order to a new status, as the lifecycle allows. Concurrent writers never lose a change. */
  async transition(
    projectId: string,
    orderId: string,
    input: TransitionInput,
    idempotencyKey?: string,
    actor?: Actor,
    trace?: TraceParent,
  ): Promise<WriteResult> {
    const project = await this.projects.get(projectId);
    const command = withActor(transitionCommand(project, orderId, input, idempotencyKey), actor);
    if (this.quotas) {
      const cached = this.quotas.quotasOf(projectId);
      this.quotas.admitWrites(projectId, cached instanceof Promise ? await cached : cached, 1);
    }
    return this.afterAppend(command, await this.append(command, trace));
  }

  /**
   * Many creates and transitions as one append batch (one transaction, one flush), in
   * order: an item sees what the items before it did. Each item has its own answer, as
   * its single route would give it; a bad item fails alone. The whole list is refused,
   * with nothing written, when two items use one idempotency key for different requests.
   */
  async batch(projectId: string, items: readonly BatchItem[], actor?: Actor, trace?: TraceParent): Promise<BatchItemResult[]> {
    const project = await this.projects.get(projectId);
    refuseReusedKeys(items);
    const cached = this.quotas?.quotasOf(projectId);
    const quotas = cached instanceof Promise ? await cached : cached;
    const results: BatchItemResult[] = new Array(items.length);
    const requests: Array<AppendRequest & { position: number }> = [];
    items.forEach((item, position) => {
      try {
        const command = withActor(
          item.kind === 'create'
            ? createCommand(project, item.body, item.idempotencyKey)
            : transitionCommand(project, item.orderId, item.body, item.idempotencyKey),
          actor,
        );
        if (quotas && command.kind === 'create') this.quotas!.admitMetadata(projectId, quotas, command.order.metadata);
        requests.push({ command, ids: { orderId: newId('ord'), eventId: newId('evt') }, position });
      } catch (error) {
        results[position] = { ok: false, error };
      }
    });
    // The whole request, before anything is written: a batch counts its items against the write quota.
    if (quotas && requests.length > 0) this.quotas!.admitWrites(projectId, quotas, requests.length);
    const appended = await traceAppendMany(requests, trace, () => this.store.orderLog.appendMany(requests));
    appended.forEach((result, i) => {
      const { command, position } = requests[i]!;
      try {
        if (!result.ok) throw this.appendFailed(command, result.error);
        results[position] = { ok: true, result: this.afterAppend(command, result.outcome) };
      } catch (error) {
        results[position] = { ok: false, error };
      }
    });
    return results;
  }

  /**
   * Appends `order.stuck` for each due order, at the version the due index named, as one
   * batch of the write path. A version another writer (or another node's sweeper) moved
   * first is refused by the compare-and-set and writes nothing; returns the events appended.
   */
  async flagStuck(due: readonly DueOrder[]): Promise<OrderEvent[]> {
    const requests: AppendRequest[] = [];
    for (const order of due) {
      const project = await this.projects.get(order.projectId);
      requests.push({
        command: { kind: 'stuck', projectId: order.projectId, lifecycle: project.lifecycle, orderId: order.id, expectedVersion: order.version },
        ids: { orderId: order.id, eventId: newId('evt') },
      });
    }
    if (requests.length === 0) return [];
    const flagged: OrderEvent[] = [];
    for (const [i, result] of (await this.store.orderLog.appendMany(requests)).entries()) {
      const { command } = requests[i]!;
      if (!result.ok) throw this.appendFailed(command, result.error);
      if (result.outcome.kind !== 'appended') continue;
      this.afterAppend(command, result.outcome);
      flagged.push(result.outcome.event);
    }
    return flagged;
  }

  private async append(command: AppendCommand, trace: TraceParent | undefined): Promise<AppendOutcome> {
    try {
      return await traceAppend(command, trace, () => this.store.orderLog.append(command, { orderId: newId('ord'), eventId: newId('evt') }));
    } catch (error) {
      throw this.appendFailed(command, error);
    }
  }

  private appendFailed(command: AppendCommand, error: unknown): unknown {
    // The change may have committed all the same (the connection died after COMMIT was
    // sent): the next read must ask the database, not answer the state before it.
    if (command.kind !== 'create') this.readCache.forget(command.orderId);
    return error;
  }

  private afterAppend(command: AppendCommand, outcome: AppendOutcome): WriteResult {
    switch (outcome.kind) {
      case 'refused':
        throw refusalError(outcome.refusal);
      case 'replayed':
        return { replayed: true, statusCode: outcome.statusCode, body: outcome.body as Order };
      case 'appended':
        this.readCache.offer(command.projectId, outcome.event.order);
        this.broker.publish({ projectId: command.projectId, orderId: outcome.event.orderId });
        if (outcome.event.type === 'order.created') this.observer.orderCreated?.(outcome.event.order);
        if (outcome.event.type === 'order.status_changed') this.observer.orderTransitioned?.(outcome.event);
        return { replayed: false, statusCode: command.kind === 'create' ? 201 : 200, body: outcome.event.order };
    }
  }

  async get(projectId: string, orderId: string, scope: ReadScope = {}): Promise<Order> {
    const cached = visible(this.readCache.peek(orderId), projectId, scope);
    if (cached) return cached.order;
    const project = await this.projects.get(projectId);
    const row = await this.store.readOrderRow(projectId, orderId);
    // Another user's order looks exactly like a missing one.
    if (!row || (scope.userExternalId !== undefined && row.user_external_id !== scope.userExternalId)) {
      throw new OrdercastError('order_not_found', `No order ${orderId}`, { orderId });
    }
    const order = rowToOrder(row, project.lifecycle);
    this.readCache.offer(projectId, order);
    return order;
  }

  /**
   * Long-poll: returns as soon as the order's version differs from
   * `knownVersion`, or the current order once `timeoutMs` has passed.
   */
  async waitForChange(
    projectId: string,
    orderId: string,
    knownVersion: number,
    timeoutMs: number,
    scope: ReadScope = {},
    signal?: AbortSignal,
  ): Promise<Order> {
    const deadline = Date.now() + timeoutMs;
    let order = await this.get(projectId, orderId, scope);
    while (order.version === knownVersion && Date.now() < deadline && !signal?.aborted) {
      await this.orderWaiters.waitOnce(orderId, Math.min(1000, deadline - Date.now()), signal);
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
    const statuses = query.status === undefined ? undefined : [query.status].flat();
    for (const status of statuses ?? []) {
      if (!project.lifecycle.statuses.includes(status)) {
        throw new OrdercastError('unknown_status', `"${status}" is not a status of the ${project.lifecycle.name} lifecycle`, {
          status,
          statuses: project.lifecycle.statuses,
        });
      }
    }
    if (scope.userExternalId !== undefined && query.userExternalId !== undefined && query.userExternalId !== scope.userExternalId) {
      return { object: 'list', data: [], hasMore: false, nextCursor: null };
    }
    const rows = await listOrderRows(this.store.db, {
      projectId,
      statuses,
      userExternalId: scope.userExternalId ?? query.userExternalId,
      externalId: query.externalId,
      createdAfter: isoTimeFilter(query.createdAfter, 'createdAfter'),
      createdBefore: isoTimeFilter(query.createdBefore, 'createdBefore'),
      stuck: query.stuck,
      beforeSeq: query.cursor !== undefined ? decodePageCursor('o', query.cursor) : undefined,
      limit: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    return {
      object: 'list',
      data: page.map((row) => rowToOrder(row, project.lifecycle)),
      hasMore,
      nextCursor: hasMore ? encodePageCursor('o', page[page.length - 1]!.seq) : null,
    };
  }

  /** An order's events after `afterVersion`, oldest first: its whole history, a page at a time. */
  async events(projectId: string, orderId: string, scope: ReadScope = {}, page: { afterVersion?: number; limit?: number } = {}): Promise<OrderEventPage> {
    const limit = page.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PAGE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_EVENTS_PAGE}`, { field: 'limit' });
    }
    const afterVersion = page.afterVersion ?? 0;
    if (!Number.isInteger(afterVersion) || afterVersion < 0) {
      throw new OrdercastError('validation_failed', 'afterVersion must be a whole number of 0 or more', { field: 'afterVersion' });
    }
    await this.get(projectId, orderId, scope);
    const events = await listOrderEvents(this.store.db, orderId, afterVersion, limit + 1);
    return { object: 'list', data: events.slice(0, limit), hasMore: events.length > limit };
  }
}
