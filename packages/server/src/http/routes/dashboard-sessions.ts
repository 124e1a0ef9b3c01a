import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OrdercastError } from '../../domain/errors.js';
import type { DashboardPrincipal, DashboardSessionService } from '../../services/dashboard-session-service.js';
import { clearedSessionCookie, readSessionCookie, refuseOtherOrigins, sessionCookie } from '../dashboard-cookie.js';
import { actorOf } from '../request-actor.js';
import { errorResponses, listSchema } from '../schemas.js';

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const dashboardSessionSchema = {
  $id: 'DashboardSession',
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', enum: ['dashboard_session'] },
    role: { type: 'string', enum: ['viewer', 'operator'] },
    status: { type: 'string', enum: ['pending', 'active', 'expired', 'signed_out', 'revoked'] },
    createdAt: { type: 'string', format: 'date-time' },
    linkExpiresAt: { type: 'string', format: 'date-time' },
    sessionSeconds: { type: 'integer' },
    startedAt: nullableTime,
    startedAddress: { type: ['string', 'null'] },
    expiresAt: nullableTime,
    endedAt: nullableTime,
  },
  required: ['id', 'object', 'role', 'status', 'createdAt', 'linkExpiresAt', 'sessionSeconds', 'startedAt', 'startedAddress', 'expiresAt', 'endedAt'],
} as const;

const currentSessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', enum: ['dashboard_session'] },
    projectId: { type: 'string' },
    role: { type: 'string', enum: ['viewer', 'operator'] },
    permissions: { type: 'array', items: { type: 'string' } },
    expiresAt: { type: 'string', format: 'date-time' },
    csrfToken: { type: 'string', description: 'Send it in `X-Ordercast-Csrf` with every request that changes something' },
  },
  required: ['id', 'object', 'projectId', 'role', 'permissions', 'expiresAt', 'csrfToken'],
} as const;

function cookieOf(request: FastifyRequest): string {
  const cookie = readSessionCookie(request.headers.cookie);
  if (!cookie) throw new OrdercastError('unauthorized', 'No dashboard session: open a sign-in link');
  return cookie;
}

/**
 * Dashboard sign-in with a one-time link: opening it sets the session cookie; the page
 * reads its role and CSRF token, and signs out. The project's secret key lists and
 * revokes its sessions.
 */
/** The session as the holder of its cookie sees it: at sign-in and at `GET /api/v2/dashboard/session`. */
function currentSession(principal: DashboardPrincipal, csrfToken: string) {
  return {
    id: principal.sessionId,
    object: 'dashboard_session',
    projectId: principal.projectId,
    role: principal.role,
    permissions: principal.permissions,
    expiresAt: new Date(principal.expiresAtMs).toISOString(),
    csrfToken,
  };
}

export async function dashboardSessionRoutes(app: FastifyInstance, opts: { sessions: DashboardSessionService }): Promise<void> {
  const { sessions } = opts;
  app.addSchema(dashboardSessionSchema);

  app.post<{ Body: { link: string } }>(
    '/api/v2/dashboard/sign-in',
    {
      schema: {
        summary: 'Open a dashboard sign-in link',
        operationId: 'openDashboardLink',
        description:
          'Takes the one-time token of a link made by `ordercast dashboard-link` and starts a session bound to its role, in an HttpOnly, SameSite=Strict cookie (Secure outside plain-http loopback). Only from this server’s own dashboard page (Origin). A forged, expired, used or revoked link: 401, and no session.',
        tags: ['dashboard'],
        security: [],
        body: { type: 'object', additionalProperties: false, required: ['link'], properties: { link: { type: 'string', maxLength: 200 } } },
        response: { 200: currentSessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      // No cookie yet, so the origin rule is applied here: signing someone in from another site is refused too.
      if (request.headers.origin === undefined)
        throw new OrdercastError('forbidden', 'Opening a sign-in link needs an Origin header: open the link in a browser');
      refuseOtherOrigins(request);
      const opened = await sessions.openLink(request.body.link, request.ip ?? null);
      const { principal } = opened;
      reply.header('set-cookie', sessionCookie(request, opened.cookieSecret, (principal.expiresAtMs - Date.now()) / 1000));
      return currentSession(principal, opened.csrfToken);
    },
  );

  app.get(
    '/api/v2/dashboard/session',
    {
      config: { allow: ['dashboard'] },
      schema: {
        summary: 'The dashboard session of this cookie',
        operationId: 'getDashboardSession',
        description: 'Its role, what it may do, when it ends, and its CSRF token. Only with the session cookie.',
        tags: ['dashboard'],
        response: { 200: currentSessionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal.kind !== 'dashboard') throw new OrdercastError('forbidden', 'Only a dashboard session has a session');
      return currentSession(principal, sessions.csrfTokenFor(cookieOf(request)));
    },
  );

  app.post(
    '/api/v2/dashboard/sign-out',
    {
      config: { allow: ['dashboard'] },
      schema: {
        summary: 'Sign out of the dashboard',
        operationId: 'signOutOfDashboard',
        description: 'Ends the session of this cookie everywhere, and clears the cookie.',
        tags: ['dashboard'],
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal.kind !== 'dashboard') throw new OrdercastError('forbidden', 'Only a dashboard session can sign out');
      await sessions.signOut(principal, request.ip ?? null);
      return reply.code(204).header('set-cookie', clearedSessionCookie(request)).send();
    },
  );

  app.get(
    '/api/v2/dashboard-sessions',
    {
      config: { allow: ['secret'], unrestrictedOnly: true },
      schema: {
        summary: "The project's dashboard links and sessions",
        operationId: 'listDashboardSessions',
        description:
          'Newest first, the last 100: links not opened yet (`pending`), sessions (`active`, `expired`), and those signed out or revoked. Never a link or cookie.',
        tags: ['dashboard'],
        response: { 200: listSchema({ $ref: 'DashboardSession#' }), ...errorResponses },
      },
    },
    async (request) => ({ object: 'list', data: await sessions.list(request.principal.projectId) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v2/dashboard-sessions/:id',
    {
      config: { allow: ['secret'], unrestrictedOnly: true },
      schema: {
        summary: 'Revoke a dashboard link or session',
        operationId: 'revokeDashboardSession',
        description: 'The link stops opening, and the session stops working everywhere within 5 s (its open long-polls end). Revoking twice is harmless.',
        tags: ['dashboard'],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 200: { $ref: 'DashboardSession#' }, ...errorResponses },
      },
    },
    async (request) => sessions.revoke(request.principal.projectId, request.params.id, actorOf(request)),
  );
}
