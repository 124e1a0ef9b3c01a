import type { FastifyRequest } from 'fastify';
import type { Actor } from '../domain/actor.js';

/** Who is making this request, for order events and the audit log: the credential's id and the client's address. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal;
  const address = request.ip ?? null;
  switch (principal.kind) {
    case 'dashboard':
      return { kind: 'dashboard_session', id: principal.sessionId, role: principal.role, address };
    case 'user':
      return { kind: 'user_token', id: principal.userExternalId, address };
    case 'publishable':
      return { kind: 'publishable_key', id: principal.keyId, address };
    default:
      return { kind: 'secret_key', id: principal.keyId, address };
  }
}

/** The admin key behind an admin route, for the audit log. */
export function adminActorOf(request: FastifyRequest): Actor {
  return { kind: 'admin_key', id: request.adminPrincipal.keyId, address: request.ip ?? null };
}
