import type { FastifyContextConfig, FastifyInstance, preHandlerHookHandler } from 'fastify';
import type { ProjectQuotaService } from '../../services/project-quotas.js';
import { errorResponses, idParams } from '../schemas.js';
import { quotaChangeSchema, quotaOverridesSchema, quotasSchema } from './quota-schemas.js';

/**
 * What the caller (the admin API) hands this plugin: how its routes are authenticated.
 * The plugin checks no credential itself; `preHandler` must refuse everything but an admin.
 */
export interface AdminProjectQuotaRouteOptions {
  quotas: ProjectQuotaService;
  /** Runs before each handler: the admin credential check. */
  preHandler: preHandlerHookHandler | preHandlerHookHandler[];
  /** Route config the caller's hooks read (such as which principals are allowed). */
  config?: FastifyContextConfig;
  /** OpenAPI tags (default `admin`). */
  tags?: string[];
}

const quotasView = {
  type: 'object',
  properties: {
    object: { type: 'string', enum: ['project_quotas'] },
    projectId: { type: 'string' },
    quotas: { ...quotasSchema, description: 'What applies now: the overrides over the defaults' },
    overrides: { ...quotaOverridesSchema, description: "The project's own values (only the quotas it overrides)" },
    defaults: { ...quotasSchema, description: "The server's defaults (ORDERCAST_QUOTA_*)" },
  },
  required: ['object', 'projectId', 'quotas', 'overrides', 'defaults'],
} as const;

/**
 * `GET` and `PATCH /api/v2/admin/projects/{id}/quotas`: an operator reads a project's quotas
 * and sets or clears its overrides. Registered by the admin API with its own authentication.
 */
export async function adminProjectQuotaRoutes(app: FastifyInstance, opts: AdminProjectQuotaRouteOptions): Promise<void> {
  const tags = opts.tags ?? ['admin'];
  app.get<{ Params: { id: string } }>(
    '/api/v2/admin/projects/:id/quotas',
    {
      preHandler: opts.preHandler,
      config: opts.config,
      schema: {
        summary: "A project's quotas",
        operationId: 'getProjectQuotas',
        description: "What applies to the project now, what it overrides, and the server's defaults.",
        tags,
        params: idParams,
        response: { 200: quotasView, ...errorResponses },
      },
    },
    async (request) => opts.quotas.describe(request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: unknown }>(
    '/api/v2/admin/projects/:id/quotas',
    {
      preHandler: opts.preHandler,
      config: opts.config,
      schema: {
        summary: "Set or clear a project's quotas",
        operationId: 'updateProjectQuotas',
        description:
          '`{"writes_per_second": 100}` sets an override, `{"writes_per_second": null}` returns it to the server\'s default; quotas not named keep theirs. A value that is not a whole number from 1 to the quota\'s maximum, or a name that is not a quota, is a 400 `invalid_quota` and changes nothing. Running servers apply a change within 5 s.',
        tags,
        params: idParams,
        body: quotaChangeSchema,
        response: { 200: quotasView, ...errorResponses },
      },
    },
    async (request) => opts.quotas.update(request.params.id, request.body),
  );
}
