import type { Transaction } from 'kysely';
import { endpointWantsEvent, type DeliveryStatus, type WebhookAttempt } from '../domain/webhook.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { insertAttempts } from '../store/repositories/webhook-attempts.js';
import {
  claimDueDeliveries,
  failWithoutAttempt,
  finishAttempts,
  insertDelivery,
  queueStats,
  releaseLeases,
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
import { newId } from '../services/random.js';
import { ENDPOINT_DISABLED_EVENT_NAME, endpointDisabledPayload } from './payload.js';

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

/**
 * The dispatcher's side of the outbox: claiming due deliveries under a lease, and
 * recording what each attempt did, with the endpoint's health. (The outbox rows are
 * written by the order log's append; the REST delivery log is WebhookDeliveryService.)
 */
export class DeliveryQueue {
  constructor(private readonly store: Store) {}

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
