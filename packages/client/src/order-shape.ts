import type { Order } from './types.js';

/** Just enough checking that a proxy's JSON or a half-deployed server is not mistaken for an order. */
export function looksLikeOrder(value: unknown): value is Order {
  if (typeof value !== 'object' || value === null) return false;
  const order = value as Partial<Order>;
  return typeof order.id === 'string' && typeof order.status === 'string' && Number.isInteger(order.version) && typeof order.final === 'boolean';
}
