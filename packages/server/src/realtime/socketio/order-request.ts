import { OrdercastError } from '../../domain/errors.js';

/** The events this gateway answers; anything else gets an `unknown_event` error. */
export const CLIENT_EVENTS = ['subscribe:order', 'unsubscribe:order', 'subscribe:project', 'unsubscribe:project'] as const;

const MAX_ORDER_ID_LENGTH = 100;

/** The payload of `subscribe:order` and `unsubscribe:order`, or a `validation_failed` error that says what is wrong. */
export function parseOrderRequest(payload: unknown, event: string): { orderId: string; sinceVersion?: number } {
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as { orderId?: unknown; sinceVersion?: unknown };
  if (typeof body.orderId !== 'string' || body.orderId === '' || body.orderId.length > MAX_ORDER_ID_LENGTH) {
    throw new OrdercastError('validation_failed', `${event} needs { orderId: "<order id>" } (a string of 1 to ${MAX_ORDER_ID_LENGTH} characters)`, {
      field: 'orderId',
    });
  }
  const since = body.sinceVersion;
  if (since !== undefined && since !== null && (typeof since !== 'number' || !Number.isInteger(since) || since < 0)) {
    throw new OrdercastError('validation_failed', 'sinceVersion must be a whole number of 0 or more (the last version you received)', {
      field: 'sinceVersion',
    });
  }
  return { orderId: body.orderId, sinceVersion: typeof since === 'number' ? since : undefined };
}
