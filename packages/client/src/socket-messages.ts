import { looksLikeOrder } from './order-shape.js';
import type { Order } from './types.js';

/**
 * Everything the SDK assumes about the Socket.IO gateway's message shapes lives in this file,
 * so a change of the gateway's protocol is a change here and nowhere else.
 */

export const SOCKET_NAMESPACE = '/ws';
export const SUBSCRIBE_EVENT = 'subscribe:order';
export const UNSUBSCRIBE_EVENT = 'unsubscribe:order';
export const UPDATE_EVENT = 'order:update';

export type SubscribeAck = { order: Order } | { error: { code: string; message: string } };

/**
 * The `subscribe:order` acknowledgement: `{ order }` (the current order, so nothing is missed
 * between fetching and subscribing) or `{ error: { code, message } }`. A bare order is also
 * accepted, and a bare `{ code, message }` is read as an error, in case the gateway drops the wrapper.
 */
export function parseSubscribeAck(payload: unknown): SubscribeAck {
  const value = payload as { order?: unknown; error?: { code?: unknown; message?: unknown }; code?: unknown; message?: unknown } | null;
  if (value && looksLikeOrder(value.order)) return { order: value.order };
  if (looksLikeOrder(value)) return { order: value };
  const error = value?.error ?? value;
  if (error && typeof error.code === 'string') {
    return { error: { code: error.code, message: typeof error.message === 'string' ? error.message : error.code } };
  }
  return { error: { code: 'invalid_ack', message: `Unexpected subscribe:order acknowledgement: ${safeJson(payload)}` } };
}

/** `order:update` carries `{orderId, status, previousStatus, version, updatedAt, eventName, order}`; the order is what we use. */
export function parseOrderUpdate(payload: unknown, orderId: string): Order | undefined {
  const update = payload as { orderId?: unknown; order?: unknown } | null;
  if (!update || !looksLikeOrder(update.order)) return undefined;
  if (update.order.id !== orderId) return undefined; // a shared connection may carry other orders
  return update.order;
}

export function subscribeRequest(orderId: string, sinceVersion: number | undefined): { orderId: string; sinceVersion?: number } {
  return sinceVersion === undefined ? { orderId } : { orderId, sinceVersion };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
