import type { Transaction } from 'kysely';
import { OrdercastError } from '../domain/errors.js';
import { endpointWantsEvent, type DeliveryStatus, type WebhookAttempt, type WebhookDelivery } from '../domain/webhook.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { insertAttempts, listAttempts } from '../store/repositories/webhook-attempts.js';
import {
  claimDueDeliveries,
  failWithoutAttempt,
  findDeliveryRow,
  finishAttempts,
  insertDelivery,
  listDeliveryRows,
  queueStats,
  releaseLeases,
  requeueDelivery,
  requeueFailedDeliveries,
  rowToDelivery,
  type DeliveryOutcome,
  type DeliveryRow,
  type QueueStats,
} from '../store/repositories/webhook-deliveries.js';
import {
  disableEndpoint,
  findEndpointById,
  findEndpointsByIds,
  listEnabledEndpoints,
  markEndpointFailing,
  markEndpointHealthy,
  type EndpointRecord,
} from '../store/repositories/webhook-endpoints.js';
import { inTransaction } from '../store/transaction.js';
import { ENDPOINT_DISABLED_EVENT_NAME, endpointDisabledPayload, TEST_EVENT_NAME, testPayload } from '../webhooks/payload.js';
import type { WebhookEndpointService } from './webhook-endpoint-service.js';
import { newId } from './random.js';

export interface DeliveryView extends WebhookDelivery {
  object: 'webhook_delivery';
}

export interface DeliveryDetail extends DeliveryView {
  /** The exact body that is signed and sent. */
  payload: unknown;
  attempts: WebhookAttempt[];
}

export interface DeliveryListQuery {
  endpointId?: string;
  orderId?: string;
  status?: DeliveryStatus;
  limit?: number;
  cursor?: string;
}

/** What the dispatcher learned from one attempt, and what should happen next. */
export interface AttemptRecord {
  attempt: WebhookAttempt;
  /** Where the delivery goes next: pending (with its next time), or finished. */
  status: DeliveryStatus;
  nextAttemptAt: string;
  /** Disable the endpoint (410 Gone, or failing for too long), with this reason. */
  disableEndpoint?: string;
  /** Endpoints failing longer than this are disabled. */
  disableAfterMs: number;
}

/** An endpoint that recording attempts disabled, and why. */
export interface DisabledEndpoint {
  endpointId: string;
  projectId: string;
  reason: string;
}

/** What recording a batch of attempts did. */
export interface AttemptBatchResult {
  disabled: DisabledEndpoint[];
  /** Records the database refused; their deliveries are retried once their leases run out. */
  unrecorded: Array<{ record: AttemptRecord; error: unknown }>;
}

export const MAX_DELIVERY_PAGE = 100;

function deliveryView(row: DeliveryRow): DeliveryView {
  return { object: 'webhook_delivery', ...rowToDelivery(row) };
}

function encodeCursor(seq: number): string {
  return Buffer.from(`d:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^d:(\d{1,15})$/.exec(text);
  if (!match || Buffer.from(text).toString('base64url') !== cursor) {
    throw new OrdercastError('invalid_cursor', 'The cursor is not one this API returned: pass nextCursor from a previous page unchanged');
  }
  return Number(match[1]);
}

function isoDate(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new OrdercastError('validation_failed', `${field} must be an ISO-8601 time, such as 2026-01-31T12:00:00Z`, { field });
  }
  return date.toISOString();
}

/**
 * The webhook outbox: deliveries are written with their event, claimed by
 * dispatchers under a lease, and every attempt is recorded.
 */
export class WebhookDeliveryService {
  private readonly queuedListeners = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly endpoints: WebhookEndpointService,
  ) {}

  /** Dispatchers listen here to send re-queued and test deliveries at once. */
  onQueued(listener: () => void): () => void {
    this.queuedListeners.add(listener);
    return () => this.queuedListeners.delete(listener);
  }

  private notifyQueued(): void {
    for (const listener of this.queuedListeners) listener();
  }

  /** Queues a signed test event for one endpoint, whatever its event filter. */
  async enqueueTest(projectId: string, endpointId: string): Promise<DeliveryView> {
    const endpoint = await this.endpoints.getRecord(projectId, endpointId);
    if (endpoint.disabled) {
      throw new OrdercastError('webhook_endpoint_disabled', `Webhook endpoint ${endpointId} is disabled: enable it first (PATCH {"disabled": false})`, { endpointId });
    }
    const now = new Date().toISOString();
    const id = newId('msg');
    const eventId = newId('evt_test');
    await insertDelivery(this.store.db, {
      id,
      projectId,
      endpointId,
      eventId,
      eventName: TEST_EVENT_NAME,
      orderId: null,
      payload: JSON.stringify(testPayload(eventId, endpointId, now)),
      createdAt: now,
    });
    this.notifyQueued();
    return deliveryView((await findDeliveryRow(this.store.db, projectId, id))!);
  }

  async list(projectId: string, query: DeliveryListQuery): Promise<{ object: 'list'; data: DeliveryView[]; hasMore: boolean; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERY_PAGE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_DELIVERY_PAGE}`, { field: 'limit' });
    }
    if (query.endpointId !== undefined) await this.endpoints.getRecord(projectId, query.endpointId);
    const rows = await listDeliveryRows(this.store.db, {
      projectId,
      endpointId: query.endpointId,
      orderId: query.orderId,
      status: query.status,
      beforeSeq: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      limit: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    return { object: 'list', data: page.map(deliveryView), hasMore, nextCursor: hasMore ? encodeCursor(Number(page[page.length - 1]!.seq)) : null };
  }

  private async row(projectId: string, id: string): Promise<DeliveryRow> {
    const row = await findDeliveryRow(this.store.db, projectId, id);
    if (!row) throw new OrdercastError('webhook_delivery_not_found', `No webhook delivery ${id}`, { deliveryId: id });
    return row;
  }

  async get(projectId: string, id: string): Promise<DeliveryDetail> {
    const row = await this.row(projectId, id);
    return { ...deliveryView(row), payload: JSON.parse(row.payload), attempts: await listAttempts(this.store.db, id) };
  }

  /** Sends a delivery again with a fresh retry schedule and the same `webhook-id`. */
  async redeliver(projectId: string, id: string): Promise<DeliveryView> {
    const row = await this.row(projectId, id);
    const endpoint = await this.endpoints.getRecord(projectId, row.endpoint_id);
    if (endpoint.disabled) {
      throw new OrdercastError('webhook_endpoint_disabled', `Webhook endpoint ${endpoint.id} is disabled: enable it first (PATCH {"disabled": false})`, {
        endpointId: endpoint.id,
      });
    }
    await requeueDelivery(this.store.db, id, new Date().toISOString());
    this.notifyQueued();
    return deliveryView(await this.row(projectId, id));
  }

  /** Re-queues every failed delivery to the endpoint created in [since, until). */
  async recover(projectId: string, endpointId: string, input: { since?: string; until?: string }): Promise<{ object: 'webhook_recovery'; endpointId: string; since: string; until: string; requeued: number }> {
    const endpoint = await this.endpoints.getRecord(projectId, endpointId);
    if (endpoint.disabled) {
      throw new OrdercastError('webhook_endpoint_disabled', `Webhook endpoint ${endpointId} is disabled: enable it first (PATCH {"disabled": false})`, { endpointId });
    }
    const since = isoDate(input.since, 'since');
    if (since === undefined) throw new OrdercastError('validation_failed', 'since is required', { field: 'since' });
    const now = new Date().toISOString();
    const until = isoDate(input.until, 'until') ?? now;
    if (until <= since) throw new OrdercastError('validation_failed', 'until must be after since', { field: 'until' });
    const requeued = await requeueFailedDeliveries(this.store.db, endpointId, since, until, now);
    if (requeued > 0) this.notifyQueued();
    return { object: 'webhook_recovery', endpointId, since, until, requeued };
  }

  // ---- for the dispatcher ----

  claimDue(workerId: string, limit: number, leaseMs: number): Promise<DeliveryRow[]> {
    const now = new Date();
    return inTransaction(this.store.db, (trx) =>
      claimDueDeliveries(trx, this.store.dialect, {
        now: now.toISOString(),
        leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
        workerId,
        limit,
      }),
    );
  }

  /** The endpoints with these ids that still exist, by id. */
  async findEndpoints(ids: Iterable<string>): Promise<Map<string, EndpointRecord>> {
    const records = await findEndpointsByIds(this.store.db, [...new Set(ids)]);
    return new Map(records.map((record) => [record.id, record]));
  }

  /** Hands back deliveries this worker claimed but will not send (it is stopping), so others need not wait for the lease. */
  async releaseClaims(workerId: string, deliveryIds: readonly string[]): Promise<void> {
    if (deliveryIds.length > 0) await releaseLeases(this.store.db, deliveryIds, workerId);
  }

  async giveUpWithoutAttempt(deliveryId: string, reason: string): Promise<void> {
    await failWithoutAttempt(this.store.db, deliveryId, reason, new Date().toISOString());
  }

  /**
   * Stores attempts and moves their deliveries on, all in one transaction, and keeps
   * each endpoint's health: any success resets its failure clock; a failure starts
   * it, and an endpoint failing longer than allowed is disabled. Records are taken
   * in the order the attempts finished. If the database refuses the batch, each
   * record is tried alone, so one it cannot store does not hold back the others.
   */
  async recordAttempts(workerId: string, records: readonly AttemptRecord[]): Promise<AttemptBatchResult> {
    const result: AttemptBatchResult = { disabled: [], unrecorded: [] };
    if (records.length === 0) return result;
    try {
      result.disabled = await inTransaction(this.store.db, (trx) => this.writeAttempts(trx, workerId, records));
      return result;
    } catch (error) {
      if (records.length === 1) {
        result.unrecorded.push({ record: records[0]!, error });
        return result;
      }
    }
    for (const record of records) {
      try {
        result.disabled.push(...(await inTransaction(this.store.db, (trx) => this.writeAttempts(trx, workerId, [record]))));
      } catch (error) {
        result.unrecorded.push({ record, error });
      }
    }
    return result;
  }

  private async writeAttempts(trx: Transaction<Database>, workerId: string, records: readonly AttemptRecord[]): Promise<DisabledEndpoint[]> {
    const at = new Date().toISOString();
    await insertAttempts(trx, records.map((record) => record.attempt));
    // Deliveries with the same outcome (a burst of 200s) move on in one statement.
    const outcomes = new Map<string, { outcome: DeliveryOutcome; ids: string[] }>();
    for (const { attempt, status, nextAttemptAt } of records) {
      const lastError = attempt.error ?? (attempt.outcome === 'failed' && attempt.statusCode !== null ? `HTTP ${attempt.statusCode}` : null);
      const key = `${status} ${nextAttemptAt} ${attempt.statusCode} ${lastError}`;
      let group = outcomes.get(key);
      if (!group) {
        group = { outcome: { status, nextAttemptAt, lastStatusCode: attempt.statusCode, lastError, at }, ids: [] };
        outcomes.set(key, group);
      }
      group.ids.push(attempt.deliveryId);
    }
    for (const { outcome, ids } of outcomes.values()) await finishAttempts(trx, ids, workerId, outcome);

    const byEndpoint = new Map<string, AttemptRecord[]>();
    for (const record of records) {
      const list = byEndpoint.get(record.attempt.endpointId);
      if (list) list.push(record);
      else byEndpoint.set(record.attempt.endpointId, [record]);
    }
    const disabled: DisabledEndpoint[] = [];
    for (const [endpointId, list] of byEndpoint) {
      // Runs of successes and failures, in the order they happened, each written once.
      for (let i = 0; i < list.length; ) {
        const succeeded = list[i]!.attempt.outcome === 'succeeded';
        let j = i;
        while (j < list.length && (list[j]!.attempt.outcome === 'succeeded') === succeeded) j++;
        const run = list.slice(i, j);
        i = j;
        if (succeeded) {
          await markEndpointHealthy(trx, endpointId);
          continue;
        }
        let reason = run.find((record) => record.disableEndpoint !== undefined)?.disableEndpoint;
        const firstFailure = run.find((record) => record.disableEndpoint === undefined);
        if (firstFailure) {
          const failingSince = await markEndpointFailing(trx, endpointId, firstFailure.attempt.attemptedAt);
          if (reason === undefined && Date.parse(at) - Date.parse(failingSince) >= firstFailure.disableAfterMs) {
            reason = `every attempt failed since ${failingSince}`;
          }
        }
        if (reason !== undefined && (await disableEndpoint(trx, endpointId, at, reason))) {
          const projectId = await this.announceDisabled(trx, endpointId, at);
          disabled.push({ endpointId, projectId: projectId ?? '', reason });
        }
      }
    }
    return disabled;
  }

  /**
   * Tells the project, through its other endpoints, that one was disabled: the
   * project learns about it even though the failing endpoint itself cannot.
   * Returns the endpoint's project.
   */
  private async announceDisabled(trx: Transaction<Database>, endpointId: string, at: string): Promise<string | undefined> {
    const disabled = await findEndpointById(trx, endpointId);
    if (!disabled) return undefined;
    const eventId = newId('evt');
    const payload = JSON.stringify(endpointDisabledPayload(eventId, disabled, at));
    for (const endpoint of await listEnabledEndpoints(trx, disabled.projectId)) {
      if (!endpointWantsEvent(endpoint.enabledEvents, ENDPOINT_DISABLED_EVENT_NAME)) continue;
      await insertDelivery(trx, {
        id: newId('msg'),
        projectId: disabled.projectId,
        endpointId: endpoint.id,
        eventId,
        eventName: ENDPOINT_DISABLED_EVENT_NAME,
        orderId: null,
        payload,
        createdAt: at,
      });
    }
    return disabled.projectId;
  }

  queueStats(): Promise<QueueStats> {
    return queueStats(this.store.db);
  }
}
