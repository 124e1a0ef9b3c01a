import type { FastifyInstance } from 'fastify';
import type { ProjectAdministration } from '../../services/project-administration.js';
import type { ProjectRecord, ProjectService } from '../../services/project-service.js';
import { adminActorOf } from '../request-actor.js';
import { errorResponses, idParams, listSchema } from '../schemas.js';
import { lifecycleSchema } from './project.js';
import { adminTags as tags } from './admin-schemas.js';

/** A project as the admin API shows it: never a key or a secret. */
function adminProjectView(project: ProjectRecord) {
  return {
    id: project.id,
    object: 'project',
    name: project.name,
    lifecycle: project.lifecycle.name,
    status: project.disabledAt === null ? 'active' : 'disabled',
    createdAt: project.createdAt,
    disabledAt: project.disabledAt,
  };
}

const config = { allow: ['admin' as const] };
const nameProperty = { type: 'string', minLength: 1, maxLength: 200, description: 'A name for people (1 to 200 characters, trimmed)' } as const;

/** `/api/v2/admin/projects`: provision projects (tenants) with an admin key. */
export async function adminProjectRoutes(app: FastifyInstance, opts: { projects: ProjectService; administration: ProjectAdministration }): Promise<void> {
  const { projects, administration } = opts;

  app.post<{ Body: { name: string; lifecycle: string | object } }>(
    '/api/v2/admin/projects',
    {
      config,
      schema: {
        summary: 'Create a project',
        operationId: 'adminCreateProject',
        description:
          'Creates a project with a secret key, a publishable key and a user-token secret, shown only in this answer. `lifecycle` is a preset name (`onramp`, `store`) or a lifecycle object.',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { name: nameProperty, lifecycle: { anyOf: [{ type: 'string', minLength: 1, maxLength: 100 }, { type: 'object' }] } },
          required: ['name', 'lifecycle'],
        },
        response: {
          201: {
            type: 'object',
            properties: {
              project: { $ref: 'AdminProject#' },
              secretKey: { type: 'string' },
              publishableKey: { type: 'string' },
              tokenSecret: { type: 'string', description: 'Signs user tokens (HS256); for a backend that signs its own' },
            },
            required: ['project', 'secretKey', 'publishableKey', 'tokenSecret'],
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const created = await administration.createProject(request.body, adminActorOf(request), { lifecycleFiles: false });
      return reply.code(201).send({
        project: adminProjectView(created.project),
        secretKey: created.secretKey,
        publishableKey: created.publishableKey,
        tokenSecret: created.tokenSecret,
      });
    },
  );

  app.get<{ Querystring: { limit: number; startingAfter?: string } }>(
    '/api/v2/admin/projects',
    {
      config,
      schema: {
        summary: 'List projects',
        operationId: 'adminListProjects',
        description: 'In creation order. `startingAfter` (a project id, the last of the previous page) pages on.',
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, startingAfter: { type: 'string', minLength: 1, maxLength: 100 } },
        },
        response: { 200: listSchema({ $ref: 'AdminProject#' }, { hasMore: { type: 'boolean' } }), ...errorResponses },
      },
    },
    async (request) => {
      const page = await projects.listPage(request.query);
      return { object: 'list', data: page.projects.map(adminProjectView), hasMore: page.hasMore };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v2/admin/projects/:id',
    {
      config,
      schema: {
        summary: 'Get a project',
        operationId: 'adminGetProject',
        tags,
        params: idParams,
        response: { 200: { $ref: 'AdminProject#' }, ...errorResponses },
      },
    },
    async (request) => adminProjectView(await projects.read(request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/api/v2/admin/projects/:id',
    {
      config,
      schema: {
        summary: 'Rename a project',
        operationId: 'adminRenameProject',
        tags,
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { name: nameProperty }, required: ['name'] },
        response: { 200: { $ref: 'AdminProject#' }, ...errorResponses },
      },
    },
    async (request) => adminProjectView(await administration.renameProject(request.params.id, request.body.name, adminActorOf(request))),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v2/admin/projects/:id/disable',
    {
      config,
      schema: {
        summary: 'Disable a project',
        operationId: 'adminDisableProject',
        description:
          'Its keys and user tokens are refused (`403 project_disabled`), and its open sockets and streams closed with that reason, within 5 s on every node. Its webhook deliveries wait until it is enabled again. Disabling a disabled project changes nothing.',
        tags,
        params: idParams,
        response: { 200: { $ref: 'AdminProject#' }, ...errorResponses },
      },
    },
    async (request) => adminProjectView(await administration.disableProject(request.params.id, adminActorOf(request))),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v2/admin/projects/:id/enable',
    {
      config,
      schema: {
        summary: 'Enable a disabled project',
        operationId: 'adminEnableProject',
        description: 'Its keys and tokens work again (those not expired or revoked meanwhile), and its waiting webhook deliveries are sent.',
        tags,
        params: idParams,
        response: { 200: { $ref: 'AdminProject#' }, ...errorResponses },
      },
    },
    async (request) => adminProjectView(await administration.enableProject(request.params.id, adminActorOf(request))),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v2/admin/projects/:id/lifecycle',
    {
      config,
      schema: {
        summary: "A project's lifecycle",
        operationId: 'adminGetProjectLifecycle',
        description: 'Statuses, initial and final statuses, allowed transitions and event names.',
        tags,
        params: idParams,
        response: { 200: lifecycleSchema, ...errorResponses },
      },
    },
    async (request) => (await projects.read(request.params.id)).lifecycle,
  );
}
