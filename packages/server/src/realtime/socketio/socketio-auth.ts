import { OrdercastError, isOrdercastError, type ErrorCode } from '../../domain/errors.js';
import type { AuthService } from '../../services/auth-service.js';
import type { HandshakeLimiter } from '../handshake-limiter.js';

/** Who a Socket.IO connection acts for. */
export type SocketPrincipal = { kind: 'secret'; projectId: string } | { kind: 'user'; projectId: string; userExternalId: string };

/** The error a client sees in `connect_error`: `err.message`, and `err.data = {code, message}`. */
export function connectError(code: ErrorCode, message: string): Error & { data: { code: ErrorCode; message: string } } {
  return Object.assign(new Error(message), { data: { code, message } });
}

/**
 * Reads `auth: { apiKey, token? }` from the handshake: a secret key acts for the
 * whole project; a publishable key must come with a user token (own orders only).
 */
export async function authenticateHandshake(
  auth: AuthService,
  limiter: HandshakeLimiter,
  ip: string,
  handshakeAuth: unknown,
): Promise<SocketPrincipal> {
  if (!limiter.allowIp(ip)) throw new OrdercastError('rate_limited', 'Too many connections from this address: retry in a few seconds');
  const { apiKey, token } = (handshakeAuth ?? {}) as { apiKey?: unknown; token?: unknown };
  if (typeof apiKey !== 'string' || apiKey === '') {
    throw new OrdercastError('unauthorized', 'Missing API key: connect with io("<base>/ws", { auth: { apiKey: "sk_…" } })');
  }
  if (!limiter.allowKey(apiKey)) throw new OrdercastError('rate_limited', 'Too many connections with this key: retry in a few seconds');
  const principal = await auth.authenticate(apiKey);
  if (principal.kind === 'secret') return { kind: 'secret', projectId: principal.projectId };
  if (principal.kind === 'user') return { kind: 'user', projectId: principal.projectId, userExternalId: principal.userExternalId };
  if (typeof token !== 'string' || token === '') {
    throw new OrdercastError('unauthorized', 'A publishable key needs a user token too: auth: { apiKey: "pk_…", token: "<user JWT>" }');
  }
  const user = await auth.verifyUserToken(token, principal.projectId);
  if (user.projectId !== principal.projectId) throw new OrdercastError('invalid_token', 'The user token belongs to another project than the key');
  return { kind: 'user', projectId: user.projectId, userExternalId: user.userExternalId };
}

export function asConnectError(error: unknown): Error {
  if (isOrdercastError(error)) return connectError(error.code, error.message);
  return connectError('service_unavailable', 'The server could not check the credentials; retry shortly');
}
