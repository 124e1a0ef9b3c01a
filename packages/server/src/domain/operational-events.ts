import type { WebhookPayload } from './webhook-payload.js';
import type { EndpointState, WebhookEndpoint } from './webhook.js';

/**
 * Events about webhooks themselves, as Svix sends them: a project's endpoints that
 * subscribe to them hear about its other endpoints' health. They are never sent to
 * the endpoint they are about (it is the one failing).
 */
export const ENDPOINT_FAILING = 'endpoint.failing';
export const ENDPOINT_RECOVERED = 'endpoint.recovered';
export const ENDPOINT_DISABLED = 'endpoint.disabled';
export const DELIVERY_EXHAUSTED = 'delivery.exhausted';

/** The signed event `POST /webhook-endpoints/{id}/test` sends. */
export const TEST_EVENT_NAME = 'WEBHOOK_TEST';

export const OPERATIONAL_EVENT_NAMES = [ENDPOINT_FAILING, ENDPOINT_RECOVERED, ENDPOINT_DISABLED, DELIVERY_EXHAUSTED];

export type EndpointEventName = typeof ENDPOINT_FAILING | typeof ENDPOINT_RECOVERED | typeof ENDPOINT_DISABLED;

/** The endpoint as an operational event shows it: no secrets, no headers (they may hold credentials). */
export function endpointEventPayload(
  eventName: EndpointEventName,
  eventId: string,
  endpoint: Pick<WebhookEndpoint, 'id' | 'url' | 'description' | 'metadata' | 'disabledAt' | 'disabledReason' | 'failingSince'>,
  consecutiveFailures: number,
  at: string,
): WebhookPayload {
  const state: EndpointState = endpoint.disabledAt !== null ? 'disabled' : endpoint.failingSince !== null ? 'failing' : 'enabled';
  return {
    id: eventId,
    eventName,
    createdAt: at,
    data: {
      object: 'webhook_endpoint',
      id: endpoint.id,
      url: endpoint.url,
      description: endpoint.description,
      metadata: endpoint.metadata,
      state,
      disabled: endpoint.disabledAt !== null,
      disabledAt: endpoint.disabledAt,
      disabledReason: endpoint.disabledReason,
      failingSince: endpoint.failingSince,
      consecutiveFailures,
    },
  };
}

export interface ExhaustedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventName: string;
  orderId: string | null;
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

export function deliveryExhaustedPayload(eventId: string, delivery: ExhaustedDelivery, at: string): WebhookPayload {
  return { id: eventId, eventName: DELIVERY_EXHAUSTED, createdAt: at, data: { object: 'webhook_delivery', ...delivery } };
}

/** What `POST /webhook-endpoints/{id}/test` sends: a signed event that names no real order. */
export function testPayload(eventId: string, endpointId: string, at: string): WebhookPayload {
  return {
    id: eventId,
    eventName: TEST_EVENT_NAME,
    createdAt: at,
    data: { id: 'ord_test', object: 'order', test: true, endpointId, status: 'TEST', version: 1 },
  };
}
