import type { Order, OrderEvent } from '../domain/order.js';

/**
 * The webhook body, in the shape reference document 000's handler reads:
 * it switches on `eventName` and reads `data.id`. `data` is the order as it was
 * right after the event, including `status` and `version`.
 */
export interface WebhookPayload {
  id: string;
  eventName: string;
  createdAt: string;
  data: Order | Record<string, unknown>;
}

export function eventPayload(event: Pick<OrderEvent, 'id' | 'eventName' | 'createdAt' | 'order'>): WebhookPayload {
  return { id: event.id, eventName: event.eventName, createdAt: event.createdAt, data: event.order };
}

export const TEST_EVENT_NAME = 'WEBHOOK_TEST';

/** What `POST /webhook-endpoints/{id}/test` sends: a signed event that names no real order. */
export function testPayload(eventId: string, endpointId: string, at: string): WebhookPayload {
  return {
    id: eventId,
    eventName: TEST_EVENT_NAME,
    createdAt: at,
    data: { id: 'ord_test', object: 'order', test: true, endpointId, status: 'TEST', version: 1 },
  };
}
