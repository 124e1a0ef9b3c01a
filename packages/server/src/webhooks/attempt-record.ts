import type { AttemptDecision } from '../domain/attempt-outcome.js';
import { OPERATIONAL_EVENT_NAMES } from '../domain/operational-events.js';
import type { DeliveryRow } from '../store/repositories/webhook-deliveries.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';
import type { AttemptRecord } from './delivery-queue.js';
import type { SendResult } from './http-sender.js';

/** Event names whose deliveries never announce `delivery.exhausted` (no notices about notices). */
const NOT_ANNOUNCED_WHEN_EXHAUSTED = new Set(OPERATIONAL_EVENT_NAMES);

/** What the endpoint's health rules need with each record. */
export interface HealthSettings {
  disableAfterMs: number;
  failingAfter: number;
}

/** The row the AttemptRecorder stores for one attempt: what was sent, what came back, and the decision on it. */
export function attemptRecord(
  row: DeliveryRow,
  endpoint: EndpointRecord,
  attemptedAt: Date,
  result: SendResult,
  decision: AttemptDecision,
  nowMs: number,
  health: HealthSettings,
): AttemptRecord {
  const succeeded = decision.status === 'succeeded';
  return {
    attempt: {
      deliveryId: row.id,
      endpointId: endpoint.id,
      url: endpoint.url,
      attemptedAt: attemptedAt.toISOString(),
      durationMs: result.durationMs,
      outcome: succeeded ? 'succeeded' : 'failed',
      statusCode: result.statusCode,
      responseHeaders: result.headers,
      responseBody: result.body,
      errorCode: result.errorCode,
      error: result.error,
    },
    status: decision.status,
    nextAttemptAt: new Date(decision.status === 'pending' ? nowMs + decision.retryInMs : nowMs).toISOString(),
    disableEndpoint: decision.status === 'failed' && decision.reason === 'gone' ? 'the endpoint answered 410 Gone' : undefined,
    disableAfterMs: health.disableAfterMs,
    failingAfter: health.failingAfter,
    // Retries ran out (a 410 is not that: it disables the endpoint, which is announced instead).
    exhausted:
      decision.status === 'failed' && decision.reason === 'exhausted' && !NOT_ANNOUNCED_WHEN_EXHAUSTED.has(row.event_name)
        ? {
            id: row.id,
            endpointId: endpoint.id,
            eventId: row.event_id,
            eventName: row.event_name,
            orderId: row.order_id,
            attemptCount: Number(row.attempt_count) + 1,
            lastStatusCode: result.statusCode,
            lastError: result.error ?? (result.statusCode !== null ? `HTTP ${result.statusCode}` : null),
          }
        : undefined,
  };
}

/** The `outcome` label of the attempt-duration metric. */
export function attemptOutcomeLabel(result: SendResult, succeeded: boolean): string {
  if (succeeded) return 'success';
  if (result.statusCode !== null) return `http_${Math.floor(result.statusCode / 100)}xx`;
  return result.errorCode ?? 'network_error';
}
