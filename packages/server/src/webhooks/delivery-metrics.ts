import type { EndpointState, Metrics } from '../metrics.js';
import type { DeliveryRow } from '../store/repositories/webhook-deliveries.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';

/**
 * What one attempt's outcome adds to the metrics beyond its duration: the delivery lag of a
 * 2xx (the outbox row commits with its event, so its creation is the event's commit), and
 * the per-project count of a finished delivery for the projects listed in
 * ORDERCAST_METRICS_PROJECTS.
 */
export function countFinishedDelivery(
  metrics: Metrics,
  row: DeliveryRow,
  endpoint: EndpointRecord,
  status: 'succeeded' | 'pending' | 'failed',
  nowMs: number,
  failingAfter: number,
): void {
  if (status === 'succeeded') {
    const lagMs = nowMs - Date.parse(row.created_at);
    if (Number.isFinite(lagMs)) metrics.webhookDeliveryLag.observe({ endpoint_state: endpointState(endpoint, failingAfter) }, Math.max(0, lagMs) / 1000);
  }
  if (status === 'pending') return;
  const project = metrics.projectLabel(endpoint.projectId);
  if (project) metrics.projectWebhookDeliveries.inc({ project, outcome: status });
}

/** Failing outranks a rate limit: a failing endpoint's lag is its failure, not its limit. */
function endpointState(endpoint: EndpointRecord, failingAfter: number): EndpointState {
  if (endpoint.failingSince !== null || endpoint.consecutiveFailures >= failingAfter) return 'failing';
  return endpoint.rateLimit ? 'rate_limited' : 'healthy';
}
