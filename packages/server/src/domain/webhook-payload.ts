import type { Order, OrderEvent } from './order.js';

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

/** The same body as `JSON.stringify(eventPayload(event))`, around an order already serialised for the log. */
export function eventPayloadJson(id: string, eventName: string, createdAt: string, orderJson: string): string {
  return `{"id":${JSON.stringify(id)},"eventName":${JSON.stringify(eventName)},"createdAt":${JSON.stringify(createdAt)},"data":${orderJson}}`;
}
