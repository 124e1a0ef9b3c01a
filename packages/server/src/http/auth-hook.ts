import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OrdercastError } from '../domain/errors.js';
import type { AuthService, Principal } from '../services/auth-service.js';
import type { DashboardPrincipal, DashboardSessionService } from '../services/dashboard-session-service.js';
import { readSessionCookie, refuseMissingCsrf, refuseOtherOrigins } from './dashboard-cookie.js';
import { dashboardRoleAllows } from './dashboard-role-allows.js';
import type { ReadScope } from '../services/order-service.js';
import type { RateLimiter } from '../lib/rate-limiter.js';

export type PrincipalKind = Principal['kind'];

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Which credentials may call the route; routes without it are public. */
    allow?: PrincipalKind[];
    /** A dashboard session's own route (signing out): open to every role. */
    dashboardSelf?: boolean;
  }
}

const WHAT_IT_NEEDS: Record<string, string> = {
  secret: 'a secret key (sk_…)',
  user: 'a user token',
  publishable: 'a publishable key (pk_…)',
  dashboard: 'a dashboard session',
};

function rateKey(principal: Principal): string {
  if (principal.kind === 'dashboard') return `session:${principal.sessionId}`;
  return principal.kind === 'user' ? `user:${principal.projectId}:${principal.userExternalId}` : `key:${principal.keyId}`;
}

/** What a principal may read: a user token sees only its own orders. */
export function readScope(principal: Principal): ReadScope {
  return principal.kind === 'user' ? { userExternalId: principal.userExternalId } : {};
}

/** Authenticates every route that declares `config.allow`, then applies the rate limit. */
export function registerAuth(app: FastifyInstance, auth: AuthService, limiter: RateLimiter, sessions?: DashboardSessionService): void {
  app.decorateRequest('principal', null as never);

  function admit(request: FastifyRequest, reply: FastifyReply, allow: PrincipalKind[], principal: Principal): void {
    // A dashboard session is admitted wherever a secret key is, within its role.
    if (!allow.includes(principal.kind) && !(principal.kind === 'dashboard' && allow.includes('secret'))) {
      throw new OrdercastError(
        'forbidden',
        `This ${principal.kind === 'user' ? 'user token' : principal.kind === 'dashboard' ? 'dashboard session' : `${principal.kind} key`} cannot do this: it needs ${allow.map((k) => WHAT_IT_NEEDS[k]).join(' or ')}`,
      );
    }
    request.principal = principal;
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
          if (!dashboardRoleAllows(p, request)) {
            throw new OrdercastError('forbidden', `A ${p.role} dashboard session cannot do this: it needs an operator session or the secret key`);
          }
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
