import { injectTraceHeaders, linksTo, SpanKind, SpanStatusCode, startSpan, tracingEnabled } from '../lib/tracing.js';
import type { EndpointState, Metrics } from '../metrics.js';
import type { DeliveryRow } from '../store/repositories/webhook-deliveries.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';
import { attemptOutcomeLabel } from './attempt-record.js';
import type { TracedDeliveryRow } from './delivery-queue.js';
import type { HttpSender, SendResult } from './http-sender.js';

/**
 * Sends one attempt; with tracing on, as an HTTP client span (OpenTelemetry's HTTP
 * conventions) linked to the write of its event, whose `traceparent` header goes with
 * the webhook so a receiver that traces continues the chain. The span is a root, not a
 * child of the write: a retry hours later is not part of the request that caused it.
 */
export async function sendAttempt(sender: HttpSender, row: TracedDeliveryRow, endpoint: EndpointRecord, headers: Record<string, string>): Promise<SendResult> {
  if (!tracingEnabled()) return sender.post(endpoint.url, headers, row.payload);
  const target = urlParts(endpoint.url);
  const span = startSpan('POST', {
    kind: SpanKind.CLIENT,
    links: linksTo([row.trace_context]),
    attributes: {
      'http.request.method': 'POST',
      ...target,
      'messaging.system': 'ordercast',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'deliver',
      'messaging.message.id': row.event_id,
      'ordercast.delivery.id': row.id,
      'ordercast.delivery.attempt': Number(row.attempt_count) + 1,
      'ordercast.endpoint.id': endpoint.id,
      'ordercast.project.id': endpoint.projectId,
      'ordercast.order.id': row.order_id ?? undefined,
      'ordercast.event.name': row.event_name,
    },
  })!;
  injectTraceHeaders(span, headers);
  const result = await sender.post(endpoint.url, headers, row.payload);
  const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
  if (result.statusCode !== null) span.setAttribute('http.response.status_code', result.statusCode);
  span.setAttribute('ordercast.attempt.outcome', attemptOutcomeLabel(result, succeeded));
  if (!succeeded) {
    span.setAttribute('error.type', result.errorCode ?? String(result.statusCode));
    span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? `HTTP ${result.statusCode}` });
  }
  span.end();
  return result;
}

/** Where an attempt went, without its query string or credentials (they may hold a tenant's secrets). */
function urlParts(url: string): Record<string, string | number> {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { 'url.full': `${u.origin}${u.pathname}`, 'server.address': u.hostname, 'server.port': port };
  } catch {
    return {};
  }
}

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
