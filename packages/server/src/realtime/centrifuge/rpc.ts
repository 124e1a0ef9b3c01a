import type { Order } from '../../domain/order.js';
import { ErrorCodes, type ProtocolError } from './codes.js';
import type { ConnectionScope } from './user-channels.js';
import type { OrderChannels } from './order-channels.js';

/** The RPC methods served, each reading with the connection's credential. */
export const RPC_METHODS = ['order.get'] as const;

/**
 * The answer to an `rpc` command: `order.get` with data `{id}` gives the order, as the
 * connection's credential may read it (103 for any other, whether it exists or not);
 * another method is 104, a missing or malformed id 107.
 */
export async function answerRpc(
  orders: OrderChannels,
  scope: ConnectionScope,
  params: Record<string, unknown>,
): Promise<{ result: { data: Order } } | { error: ProtocolError }> {
  const { method, data } = params as { method?: unknown; data?: unknown };
  if (typeof method !== 'string' || !(RPC_METHODS as readonly string[]).includes(method)) {
    return { error: { code: ErrorCodes.methodNotFound, message: `method not found: use ${RPC_METHODS.join(', ')}` } };
  }
  const id = typeof data === 'object' && data !== null ? (data as { id?: unknown }).id : undefined;
  if (typeof id !== 'string' || id === '' || id.length > 100) {
    return { error: { code: ErrorCodes.badRequest, message: 'bad request: order.get needs data {"id": "<order id>"}' } };
  }
  const order = await orders.find(scope, id);
  if (!order) return { error: { code: ErrorCodes.permissionDenied, message: 'permission denied: no such order for this credential' } };
  return { result: { data: order } };
}
