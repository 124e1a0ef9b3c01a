import type { WebhookEndpoint } from '../domain/webhook.js';

export { eventPayload, type WebhookPayload } from '../domain/webhook-payload.js';
import type { WebhookPayload } from '../domain/webhook-payload.js';

export const TEST_EVENT_NAME = 'WEBHOOK_TEST';

/** Sent to a project's other endpoints when one is disabled automatically (410 Gone, or failing too long). */
export const ENDPOINT_DISABLED_EVENT_NAME = 'WEBHOOK_ENDPOINT_DISABLED';

/** Event names about webhooks themselves, which endpoints may subscribe to beside the lifecycle's. */
export const OPERATIONAL_EVENT_NAMES = [ENDPOINT_DISABLED_EVENT_NAME];

export function endpointDisabledPayload(eventId: string, endpoint: WebhookEndpoint, at: string): WebhookPayload {
  return {
    id: eventId,
    eventName: ENDPOINT_DISABLED_EVENT_NAME,
    createdAt: at,
    data: {
      object: 'webhook_endpoint',
      id: endpoint.id,
      url: endpoint.url,
      description: endpoint.description,
      disabled: true,
      disabledAt: endpoint.disabledAt,
      disabledReason: endpoint.disabledReason,
      failingSince: endpoint.failingSince,
    },
  };
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
