import { OrdercastError, isOrdercastError, type ErrorCode } from '../../domain/errors.js';
import type { Permission } from '../../domain/permissions.js';
import type { AuthService } from '../../services/auth-service.js';
import { credentialParts, type CredentialPart } from '../../services/credential-watcher.js';
import { hasPermission, requirePermission } from '../../services/permission-check.js';
import type { HandshakeLimiter } from '../handshake-limiter.js';

/** Who a Socket.IO connection acts for, and the credentials it holds (watched while it is open). */
export type SocketPrincipal = (
  | { kind: 'secret'; projectId: string; permissions: readonly Permission[] | null }
  | { kind: 'user'; projectId: string; userExternalId: string }
) & {
  credential: CredentialPart[];
};

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
  ip: string | undefined,
  handshakeAuth: unknown,
): Promise<SocketPrincipal> {
  if (!limiter.allowIp(ip)) throw new OrdercastError('rate_limited', 'Too many connections from this address: retry in a few seconds');
  const { apiKey, token } = (handshakeAuth ?? {}) as { apiKey?: unknown; token?: unknown };
  if (typeof apiKey !== 'string' || apiKey === '') {
    throw new OrdercastError('unauthorized', 'Missing API key: connect with io("<base>/ws", { auth: { apiKey: "sk_…" } })');
  }
  // Counted by credential only once it is valid: unchecked strings never get a bucket of their own.
  const tooMany = () => new OrdercastError('rate_limited', 'Too many connections with this key: retry in a few seconds');
  const principal = await auth.authenticate(apiKey);
  if (principal.kind === 'admin') throw new OrdercastError('forbidden', 'An admin key reads no project data: connect with a secret key or a user token');
  if (principal.kind === 'secret') {
    // Every socket reads orders (the project feed also needs events:read, checked when subscribing).
    requirePermission(principal, 'orders:read');
    if (!limiter.allowCredential(`key:${principal.keyId}`)) throw tooMany();
    return { kind: 'secret', projectId: principal.projectId, permissions: principal.permissions, credential: credentialParts(principal) };
  }
  if (principal.kind === 'user') {
    if (!limiter.allowCredential(`user:${principal.projectId}:${principal.userExternalId}`)) throw tooMany();
    return { kind: 'user', projectId: principal.projectId, userExternalId: principal.userExternalId, credential: credentialParts(principal) };
  }
  if (typeof token !== 'string' || token === '') {
    throw new OrdercastError('unauthorized', 'A publishable key needs a user token too: auth: { apiKey: "pk_…", token: "<user JWT>" }');
  }
  const user = await auth.verifyUserToken(token, principal.projectId);
  if (user.projectId !== principal.projectId) throw new OrdercastError('invalid_token', 'The user token belongs to another project than the key');
  if (!limiter.allowCredential(`user:${user.projectId}:${user.userExternalId}`)) throw tooMany();
  // Both lapse: the publishable key (rotation) and the user token (expiry, secret rotation).
  return {
    kind: 'user',
    projectId: user.projectId,
    userExternalId: user.userExternalId,
    credential: [...credentialParts(principal), ...credentialParts(user)],
  };
}

/** Whether the connection may follow every order of its project: a secret key, or a restricted one with `events:read`. */
export function mayFollowProject(principal: SocketPrincipal): boolean {
  return principal.kind === 'secret' && hasPermission(principal, 'events:read');
}

export function assertMayFollowProject(principal: SocketPrincipal): void {
  if (principal.kind !== 'secret') {
    throw new OrdercastError('forbidden', 'Only a secret key may follow every order of the project; a user token follows its own orders');
  }
  requirePermission(principal, 'events:read');
}

/**
 * The `connect_error` of a refused handshake. A quota refusal carries its details
 * (`err.data = {code: 'quota_exceeded', message, details: {quota, limit, open, retryAfterSeconds}}`).
 */
export function asConnectError(error: unknown): Error {
  if (isOrdercastError(error) && error.code === 'quota_exceeded') {
    return Object.assign(new Error(error.message), { data: { code: error.code, message: error.message, details: error.details } });
  }
  if (isOrdercastError(error)) return connectError(error.code, error.message);
  return connectError('service_unavailable', 'The server could not check the credentials; retry shortly');
}
