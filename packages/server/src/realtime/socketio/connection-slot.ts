import type { Socket } from 'socket.io';
import { isOrdercastError } from '../../domain/errors.js';
import type { ConnectionQuota } from '../connection-quota.js';
import { asConnectError } from './socketio-auth.js';

/**
 * Takes one of the project's connection slots for a socket still in its handshake, and gives
 * it back when the connection ends: at `disconnect`, or when the transport closes before the
 * socket ever connected (a client that left during the handshake).
 */
export async function holdConnectionSlot(socket: Socket, projectId: string, quota: ConnectionQuota | undefined): Promise<void> {
  if (!quota) return;
  const release = await quota.openConnection(projectId);
  socket.once('disconnect', release);
  socket.conn.once('close', release);
  if (socket.conn.readyState === 'closed') release();
}

/**
 * The `connect_error` of a refused handshake. A quota refusal carries its details
 * (`err.data = {code: 'quota_exceeded', message, details: {quota, limit, open, retryAfterSeconds}}`).
 */
export function handshakeError(error: unknown): Error {
  if (isOrdercastError(error) && error.code === 'quota_exceeded') {
    return Object.assign(new Error(error.message), { data: { code: error.code, message: error.message, details: error.details } });
  }
  return asConnectError(error);
}
