import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Actor } from '../../domain/actor.js';
import type { DashboardSessionService } from '../../services/dashboard-session-service.js';
import { errorResponses } from '../schemas.js';

/**
 * `POST /api/v2/admin/projects/{id}/dashboard-links`: the admin API's
 * `ordercast dashboard-link`. Not registered here: the lead registers it beside the
 * other admin routes, with the admin principal's `config.allow` and its `actorOf`.
 * `dashboardUrl` is where the dashboard is served (the link is it plus `#link=…`).
 */
export function adminDashboardLinkRoute(
  sessions: DashboardSessionService,
  options: { dashboardUrl: (request: FastifyRequest) => string; actorOf: (request: FastifyRequest) => Actor },
): Pick<RouteOptions, 'method' | 'url' | 'schema' | 'handler'> {
  return {
    method: 'POST',
    url: '/api/v2/admin/projects/:id/dashboard-links',
    schema: {
      summary: 'Make a one-time dashboard sign-in link',
      operationId: 'createDashboardLink',
      description:
        'A link that signs one person in to the project’s dashboard with a role: `viewer` (reads) or `operator` (also moves orders and changes endpoints). The link works once, within `linkExpiresIn` seconds (default 900); the session lasts `expiresIn` seconds. Shown once.',
      tags: ['admin'],
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'expiresIn'],
        properties: {
          role: { type: 'string', enum: ['viewer', 'operator'] },
          expiresIn: { type: 'integer', description: 'How long the session lasts, in seconds' },
          linkExpiresIn: { type: 'integer', description: 'How long the link can be opened, in seconds (default 900)' },
        },
      },
      response: {
        201: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            object: { type: 'string', enum: ['dashboard_link'] },
            role: { type: 'string' },
            url: { type: 'string' },
            linkExpiresAt: { type: 'string', format: 'date-time' },
            sessionSeconds: { type: 'integer' },
          },
          required: ['id', 'object', 'role', 'url', 'linkExpiresAt', 'sessionSeconds'],
        },
        ...errorResponses,
      },
    },
    async handler(request: FastifyRequest, reply: FastifyReply) {
      const { id: projectId } = request.params as { id: string };
      const body = request.body as { role: string; expiresIn: number; linkExpiresIn?: number };
      const link = await sessions.createLink(
        projectId,
        { role: body.role, sessionSeconds: body.expiresIn, linkSeconds: body.linkExpiresIn },
        options.actorOf(request),
      );
      return reply.code(201).send({
        id: link.id,
        object: 'dashboard_link',
        role: link.role,
        url: `${options.dashboardUrl(request)}#link=${link.token}`,
        linkExpiresAt: link.linkExpiresAt,
        sessionSeconds: link.sessionSeconds,
      });
    },
  };
}
