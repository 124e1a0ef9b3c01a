import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OrdercastError } from '../domain/errors.js';
import type { Permission } from '../domain/permissions.js';
import type { AdminPrincipal, AuthService, Principal, ProjectPrincipal } from '../services/auth-service.js';
import type { DashboardPrincipal, DashboardSessionService } from '../services/dashboard-session-service.js';
import { requirePermission } from '../services/permission-check.js';
import { readSessionCookie, refuseMissingCsrf, refuseOtherOrigins } from './dashboard-cookie.js';
import type { ReadScope } from '../services/order-service.js';
import type { RateLimiter } from '../lib/rate-limiter.js';

export type PrincipalKind = Principal['kind'];

declare module 'fastify' {
  interface FastifyRequest {
    /** The project credential of a project route. */
    principal: ProjectPrincipal;
    /** The admin key of an admin route (`allow: ['admin']`). */
    adminPrincipal: AdminPrincipal;
  }
  interface FastifyContextConfig {
    /** Which credentials may call the route; routes without it are public. */
    allow?: PrincipalKind[];
    /** What a restricted key needs to call the route; every route a secret key may call declares one. */
    permission?: Permission;
    /** Only the project's unrestricted secret key (not a restricted key, not a dashboard session) may call it. */
    unrestrictedOnly?: boolean;
  }
}

const WHAT_IT_NEEDS: Record<string, string> = {
  secret: 'a secret key (sk_…)',
  user: 'a user token',
  publishable: 'a publishable key (pk_…)',
  dashboard: 'a dashboard session',
  admin: 'an admin key (ak_…)',
};

function describeCredential(principal: Principal): string {
  if (principal.kind === 'user') return 'user token';
  if (principal.kind === 'admin') return 'admin key';
  if (principal.kind === 'dashboard') return `${principal.role} dashboard session`;
  return `${principal.kind} key`;
}

function rateKey(principal: Principal): string {
  if (principal.kind === 'dashboard') return `session:${principal.sessionId}`;
  return principal.kind === 'user' ? `user:${principal.projectId}:${principal.userExternalId}` : `key:${principal.keyId}`;
}

/**
 * Refuses, at start-up, a route that a secret key may call and that declares no
 * permission: a restricted key could otherwise call it, or be refused for no stated reason.
 */
export function assertRouteDeclaresPermission(route: {
  method: string | string[];
  url: string;
  config?: { allow?: PrincipalKind[]; permission?: Permission; unrestrictedOnly?: boolean };
}): void {
  if (route.config?.allow?.includes('secret') && !route.config.permission && !route.config.unrestrictedOnly) {
    throw new Error(`${String(route.method)} ${route.url} allows secret keys but declares no config.permission (see domain/permissions.ts)`);
  }
}

/** What a principal may read: a user token sees only its own orders. */
export function readScope(principal: ProjectPrincipal): ReadScope {
  return principal.kind === 'user' ? { userExternalId: principal.userExternalId } : {};
}

/** Authenticates every route that declares `config.allow`, then applies the rate limit. */
export function registerAuth(app: FastifyInstance, auth: AuthService, limiter: RateLimiter, sessions?: DashboardSessionService): void {
  app.decorateRequest('principal', null as never);
  app.decorateRequest('adminPrincipal', null as never);
  app.addHook('onRoute', assertRouteDeclaresPermission);

  function admit(request: FastifyRequest, reply: FastifyReply, allow: PrincipalKind[], principal: Principal): void {
    // A dashboard session is admitted wherever a secret key is, within its role.
    if (!allow.includes(principal.kind) && !(principal.kind === 'dashboard' && allow.includes('secret'))) {
      throw new OrdercastError(
        'forbidden',
        `This ${describeCredential(principal)} cannot do this: it needs ${allow.map((k) => WHAT_IT_NEEDS[k]).join(' or ')}`,
      );
    }
    const { permission, unrestrictedOnly } = request.routeOptions.config ?? {};
    if (permission) requirePermission(principal, permission);
    if (unrestrictedOnly && (principal.kind === 'dashboard' || (principal.kind === 'secret' && principal.permissions !== null))) {
      throw new OrdercastError('forbidden', `This ${describeCredential(principal)} cannot do this: only the project's unrestricted secret key can`);
    }
    if (principal.kind === 'admin') request.adminPrincipal = principal;
    else request.principal = principal;
    if (limiter.enabled) {
      const decision = limiter.take(rateKey(principal));
      reply.header('ratelimit-limit', decision.limit);
      reply.header('ratelimit-remaining', decision.remaining);
      reply.header('ratelimit-reset', decision.resetSeconds);
      if (!decision.allowed) {
        reply.header('retry-after', decision.retryAfterSeconds);
        throw new OrdercastError('rate_limited', `Too many requests for this credential: retry after ${decision.retryAfterSeconds} s`, {
          retryAfterSeconds: decision.retryAfterSeconds,
        });
      }
    }
  }

  // Callback-style, and synchronous when the credential is cached: this runs on
  // every authenticated request, and a promise per request shows on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    const allow = request.routeOptions.config?.allow;
    if (!allow) return done();
    try {
      const cookie = request.headers.authorization || !sessions ? undefined : readSessionCookie(request.headers.cookie);
      if (cookie && sessions) {
        const session = sessions.authenticate(cookie);
        const admitSession = (p: DashboardPrincipal) => {
          refuseOtherOrigins(request);
          refuseMissingCsrf(request, sessions.csrfTokenFor(cookie));
          admit(request, reply, allow, p);
        };
        if (!(session instanceof Promise)) {
          admitSession(session);
          return done();
        }
        session.then(admitSession).then(() => done(), done);
        return;
      }
      const principal = auth.authenticateHeader(request.headers.authorization);
      if (!(principal instanceof Promise)) {
        admit(request, reply, allow, principal);
        return done();
      }
      principal.then((p) => admit(request, reply, allow, p)).then(() => done(), done);
    } catch (error) {
      done(error as Error);
    }
  });
}
