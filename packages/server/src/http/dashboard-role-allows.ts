import type { FastifyRequest } from 'fastify';
import type { DashboardPrincipal } from '../services/dashboard-session-service.js';
import { isSafeMethod } from './dashboard-cookie.js';

/**
 * Whether a dashboard session's role may call this route. Stands in until the access
 * helper's per-route permission check (#27, restricted keys) is merged, which replaces it:
 * a viewer may only read; an operator may do what a secret key does, except mint user tokens;
 * neither manages dashboard sessions.
 * A route marked `config.dashboardSelf` (signing out of the session itself) is open to both.
 */
export function dashboardRoleAllows(principal: DashboardPrincipal, request: FastifyRequest): boolean {
  if (request.routeOptions.config?.dashboardSelf) return true;
  const url = request.routeOptions.url ?? '';
  // Managing dashboard sessions is for the secret key only.
  if (url.startsWith('/api/v2/dashboard-sessions')) return false;
  if (principal.role === 'viewer') return isSafeMethod(request.method);
  return !url.startsWith('/api/v2/tokens');
}
