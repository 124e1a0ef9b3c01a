import type { Transaction } from 'kysely';
import { endpointWantsEvent, type DeliveryStatus, type WebhookAttempt } from '../domain/webhook.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { insertAttempts } from '../store/repositories/webhook-attempts.js';
import {
  anyDeliveryDue,
  claimDueDeliveries,
  failWithoutAttempt,
  finishAttempts,
  insertDelivery,
  queueStats,
  postponeDelivery,
  releaseEndpointBacklog,
  releaseLeases,
  type DeliveryOutcome,
  type DeliveryRow,
  type LaneWidths,
  type QueueStats,
} from '../store/repositories/webhook-deliveries.js';
import {
  disableEndpoint,
  findEndpointById,
  findEndpointsByIds,
  listEnabledEndpoints,
  markEndpointFailing,
  markEndpointHealthy,
  takeSendSlot,
  type EndpointRecord,
} from '../store/repositories/webhook-endpoints.js';
import { inTransaction } from '../store/transaction.js';
import { claimDueSqlite, finishAttemptsSqlite, insertAttemptsSqlite } from '../store/repositories/sqlite-delivery-statements.js';
import { eventTraceContexts } from '../store/repositories/order-events.js';
import { tracingEnabled } from '../lib/tracing.js';

/** A claimed delivery, with the traceparent of its event's write when tracing is on. */
export type TracedDeliveryRow = DeliveryRow & { trace_context?: string | null };
import { newId } from '../lib/ids.js';
import {
  ENDPOINT_DISABLED,
  ENDPOINT_FAILING,
  ENDPOINT_RECOVERED,
  deliveryExhaustedPayload,
  endpointEventPayload,
  type EndpointEventName,
  type ExhaustedDelivery,
} from '../domain/operational-events.js';
import type { WebhookPayload } from '../domain/webhook-payload.js';
import { decideHealthAfterFailures, decideHealthAfterSuccess } from '../domain/attempt-outcome.js';

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
  /** After this many failed attempts in a row, `endpoint.failing` is announced. */
  failingAfter: number;
  /** Set when the delivery was given up after its last retry: `delivery.exhausted` is announced. */
  exhausted?: ExhaustedDelivery;
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

/**
 * What the dispatcher needs of the outbox: DeliveryQueue, on the server's own connection,
 * in production and in the tests alike (a worker thread for it on SQLite was tried and
 * removed: see bench/README.md).
 */
export interface DeliveryQueuePort {
  claimDue(workerId: string, limit: number, leaseMs: number, lanes: LaneWidths): Promise<DeliveryRow[]>;
  /** Whether a claim now could find anything (a read, no transaction); see anyDeliveryDue. */
  anyDue(): Promise<boolean>;
  findEndpoints(ids: Iterable<string>): Promise<Map<string, EndpointRecord>>;
  releaseClaims(workerId: string, deliveryIds: readonly string[]): Promise<void>;
  takeSendSlot(endpointId: string, nowMs: number, intervalMs: number): Promise<number>;
  postpone(workerId: string, deliveryId: string, at: string): Promise<void>;
  giveUpWithoutAttempt(deliveryId: string, reason: string): Promise<void>;
  recordAttempts(workerId: string, records: readonly AttemptRecord[]): Promise<AttemptBatchResult>;
}

/**
 * The dispatcher's side of the outbox: claiming due deliveries under a lease, and
 * recording what each attempt did, with the endpoint's health. (The outbox rows are
 * written by the order log's append; the REST delivery log is WebhookDeliveryService.)
 * On SQLite the hot statements are those of sqlite-delivery-statements.ts.
 */
export class DeliveryQueue implements DeliveryQueuePort {
  constructor(private readonly store: Pick<Store, 'db' | 'dialect'>) {}

  async claimDue(workerId: string, limit: number, leaseMs: number, lanes: LaneWidths): Promise<TracedDeliveryRow[]> {
    const now = new Date();
    const claim = { now: now.toISOString(), leaseUntil: new Date(now.getTime() + leaseMs).toISOString(), workerId, limit, lanes };
    const rows: TracedDeliveryRow[] = await inTransaction(this.store.db, (trx) =>
      this.store.dialect === 'sqlite' ? claimDueSqlite(trx, claim) : claimDueDeliveries(trx, claim),
    );
    // With tracing on, each attempt links to the write of its event: one look-up per claim.
    if (tracingEnabled() && rows.length > 0) {
      const contexts = await eventTraceContexts(
        this.store.db,
        rows.map((row) => row.event_id),
      );
      for (const row of rows) row.trace_context = contexts.get(row.event_id) ?? null;
    }
    return rows;
  }

  anyDue(): Promise<boolean> {
    return anyDeliveryDue(this.store.db, this.store.dialect, new Date().toISOString());
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

  /** Takes the next send slot of a rate-limited endpoint (ms since the epoch); see takeSendSlot. */
  takeSendSlot(endpointId: string, nowMs: number, intervalMs: number): Promise<number> {
    return takeSendSlot(this.store.db, this.store.dialect, endpointId, nowMs, intervalMs);
  }

  /** Hands a claimed delivery back, due at `at`, without counting an attempt (its endpoint's rate limit). */
  async postpone(workerId: string, deliveryId: string, at: string): Promise<void> {
    await postponeDelivery(this.store.db, deliveryId, workerId, at);
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
    const sqlite = this.store.dialect === 'sqlite';
    const attempts = records.map((record) => record.attempt);
    await (sqlite ? insertAttemptsSqlite(trx, attempts) : insertAttempts(trx, attempts));
    // Deliveries with the same outcome (a burst of 200s) move on in one statement.
    const outcomes = new Map<string, { outcome: DeliveryOutcome; ids: string[] }>();
    for (const { attempt, status, nextAttemptAt: next } of records) {
      const lastError = attempt.error ?? (attempt.outcome === 'failed' && attempt.statusCode !== null ? `HTTP ${attempt.statusCode}` : null);
      // A finished delivery's next time is never read (the API shows it only while pending):
      // the batch's time for all of them, so a burst of 200s is one group, not one per millisecond.
      const nextAttemptAt = status === 'pending' ? next : at;
      const key = `${status} ${nextAttemptAt} ${attempt.statusCode} ${lastError}`;
      let group = outcomes.get(key);
      if (!group) {
        group = { outcome: { status, nextAttemptAt, lastStatusCode: attempt.statusCode, lastError, at }, ids: [] };
        outcomes.set(key, group);
      }
      group.ids.push(attempt.deliveryId);
    }
    for (const { outcome, ids } of outcomes.values()) {
      await (sqlite ? finishAttemptsSqlite(trx, ids, workerId, outcome) : finishAttempts(trx, ids, workerId, outcome));
    }

    const byEndpoint = new Map<string, AttemptRecord[]>();
    for (const record of records) {
      const list = byEndpoint.get(record.attempt.endpointId);
      if (list) list.push(record);
      else byEndpoint.set(record.attempt.endpointId, [record]);
    }
    const disabled: DisabledEndpoint[] = [];
    for (const [endpointId, list] of byEndpoint) {
      const failingAfter = list[0]!.failingAfter;
      // Runs of successes and failures, in the order they happened, each written once.
      for (let i = 0; i < list.length; ) {
        const succeeded = list[i]!.attempt.outcome === 'succeeded';
        let j = i;
        while (j < list.length && (list[j]!.attempt.outcome === 'succeeded') === succeeded) j++;
        const run = list.slice(i, j);
        i = j;
        if (succeeded) {
          const failuresBefore = await markEndpointHealthy(trx, endpointId, at);
          if (decideHealthAfterSuccess(failuresBefore, { failingAfter }).kind === 'recovered') {
            await this.announceEndpoint(trx, endpointId, ENDPOINT_RECOVERED, at);
            await releaseEndpointBacklog(trx, endpointId, at);
          }
          continue;
        }
        const health = await markEndpointFailing(trx, endpointId, run[0]!.attempt.attemptedAt, run.length);
        // A 410 disables the endpoint whatever its health; otherwise its run of failures decides.
        const gone = run.find((record) => record.disableEndpoint !== undefined)?.disableEndpoint;
        const change = decideHealthAfterFailures(
          {
            failuresBefore: health.consecutiveFailures - run.length,
            failuresAfter: health.consecutiveFailures,
            failingSinceMs: Date.parse(health.failingSince),
            nowMs: Date.parse(at),
          },
          { failingAfter, disableAfterMs: run.find((record) => record.disableEndpoint === undefined)?.disableAfterMs ?? Number.POSITIVE_INFINITY },
        );
        if (change.kind === 'failing' || (change.kind === 'disable' && change.alsoFailing)) await this.announceEndpoint(trx, endpointId, ENDPOINT_FAILING, at);
        const reason = gone ?? (change.kind === 'disable' ? change.reason : undefined);
        if (reason !== undefined && (await disableEndpoint(trx, endpointId, at, reason))) {
          const projectId = await this.announceEndpoint(trx, endpointId, ENDPOINT_DISABLED, at);
          disabled.push({ endpointId, projectId: projectId ?? '', reason });
        }
      }
      for (const record of list) {
        if (record.exhausted) await this.announceExhausted(trx, record.exhausted, at);
      }
    }
    return disabled;
  }

  /**
   * Tells the project, through its other endpoints that subscribe, about one endpoint's
   * health: the project learns of it even though the failing endpoint itself cannot.
   * Returns the endpoint's project.
   */
  private async announceEndpoint(trx: Transaction<Database>, endpointId: string, eventName: EndpointEventName, at: string): Promise<string | undefined> {
    const endpoint = await findEndpointById(trx, endpointId);
    if (!endpoint) return undefined;
    const eventId = newId('evt');
    await this.announce(trx, endpoint.projectId, endpointId, endpointEventPayload(eventName, eventId, endpoint, endpoint.consecutiveFailures, at));
    return endpoint.projectId;
  }

  private async announceExhausted(trx: Transaction<Database>, delivery: ExhaustedDelivery, at: string): Promise<void> {
    const endpoint = await findEndpointById(trx, delivery.endpointId);
    if (!endpoint) return;
    await this.announce(trx, endpoint.projectId, endpoint.id, deliveryExhaustedPayload(newId('evt'), delivery, at));
  }

  /** Queues an operational event for the project's enabled endpoints that want it, except the one it is about. */
  private async announce(trx: Transaction<Database>, projectId: string, aboutEndpointId: string, payload: WebhookPayload): Promise<void> {
    const body = JSON.stringify(payload);
    for (const endpoint of await listEnabledEndpoints(trx, projectId)) {
      if (endpoint.id === aboutEndpointId || !endpointWantsEvent(endpoint.enabledEvents, payload.eventName)) continue;
      await insertDelivery(trx, {
        id: newId('msg'),
        projectId,
        endpointId: endpoint.id,
        eventId: payload.id,
        eventName: payload.eventName,
        orderId: null,
        payload: body,
        createdAt: payload.createdAt,
      });
    }
  }

  queueStats(): Promise<QueueStats> {
    return queueStats(this.store.db);
  }
}
