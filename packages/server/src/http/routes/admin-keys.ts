import type { FastifyInstance } from 'fastify';
import { PERMISSIONS } from '../../domain/permissions.js';
import type { AdminKeyService } from '../../services/admin-key-service.js';
import type { ProjectAdministration } from '../../services/project-administration.js';
import { adminActorOf } from '../request-actor.js';
import type { ApiKeyKind, ProjectKeyService } from '../../services/project-key-service.js';
import { errorResponses, listSchema } from '../schemas.js';
import { adminTags as tags, issuedAdminKeySchema, issuedApiKeySchema, rollBody } from './admin-schemas.js';

const config = { allow: ['admin' as const] };
const idString = { type: 'string', minLength: 1, maxLength: 100 } as const;
const projectParams = { type: 'object', properties: { id: idString }, required: ['id'] } as const;
const keyParams = { type: 'object', properties: { id: idString, keyId: idString }, required: ['id', 'keyId'] } as const;

/** `/api/v2/admin/projects/{id}/keys` and `/api/v2/admin/admin-keys`: issue, roll and revoke keys with an admin key. */
export async function adminKeyRoutes(
  app: FastifyInstance,
  opts: { projectKeys: ProjectKeyService; adminKeys: AdminKeyService; administration: ProjectAdministration },
): Promise<void> {
  const { projectKeys, adminKeys, administration } = opts;

  app.post<{ Params: { id: string }; Body: { kind: ApiKeyKind; permissions?: unknown } }>(
    '/api/v2/admin/projects/:id/keys',
    {
      config,
      schema: {
        summary: "Create a project's key",
        operationId: 'adminCreateProjectKey',
        description: `A secret key (sk_…), a publishable key (pk_…), or a restricted key (rk_…) that may do only what its \`permissions\` name: ${PERMISSIONS.join(', ')}. An unknown permission is answered \`400 unknown_permission\` with the valid ones in \`details.valid\`. The key is shown only in this answer.`,
        tags,
        params: projectParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string', enum: ['secret', 'publishable', 'restricted'] },
            // Checked by the service rather than by an enum here, so an unknown one is named, with the valid ones.
            permissions: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 100 } },
          },
          required: ['kind'],
        },
        response: { 201: issuedApiKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await administration.createKey(request.params.id, request.body, adminActorOf(request))),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v2/admin/projects/:id/keys',
    {
      config,
      schema: {
        summary: "List a project's keys",
        operationId: 'adminListProjectKeys',
        description: "Every key, with its status (`active`, `expiring` in a roll's grace, `expired`, `revoked`); never the key itself.",
        tags,
        params: projectParams,
        response: { 200: listSchema({ $ref: 'ApiKey#' }), ...errorResponses },
      },
    },
    async (request) => ({ object: 'list', data: await projectKeys.list(request.params.id) }),
  );

  app.get<{ Params: { id: string; keyId: string } }>(
    '/api/v2/admin/projects/:id/keys/:keyId',
    {
      config,
      schema: {
        summary: "Get a project's key",
        operationId: 'adminGetProjectKey',
        tags,
        params: keyParams,
        response: { 200: { $ref: 'ApiKey#' }, ...errorResponses },
      },
    },
    async (request) => projectKeys.get(request.params.id, request.params.keyId),
  );

  app.post<{ Params: { id: string; keyId: string }; Body: { expiresInSeconds?: number } | undefined }>(
    '/api/v2/admin/projects/:id/keys/:keyId/roll',
    {
      config,
      schema: {
        summary: "Roll a project's key",
        operationId: 'adminRollProjectKey',
        description:
          'Issues a new key of the same kind and permissions; the old one keeps working for `expiresInSeconds`, then stops everywhere (open sockets and streams included). A revoked or expired key cannot be rolled: `409 api_key_inactive`.',
        tags,
        params: keyParams,
        body: rollBody,
        response: {
          200: { type: 'object', properties: { key: issuedApiKeySchema, previous: { $ref: 'ApiKey#' } }, required: ['key', 'previous'] },
          ...errorResponses,
        },
      },
    },
    async (request) => administration.rollKey(request.params.id, request.params.keyId, request.body?.expiresInSeconds ?? 0, adminActorOf(request)),
  );

  app.delete<{ Params: { id: string; keyId: string } }>(
    '/api/v2/admin/projects/:id/keys/:keyId',
    {
      config,
      schema: {
        summary: "Revoke a project's key",
        operationId: 'adminRevokeProjectKey',
        description: 'The key stops at once (on every node within 5 s, open sockets and streams included). Revoking it again: `409 api_key_inactive`.',
        tags,
        params: keyParams,
        response: { 200: { $ref: 'ApiKey#' }, ...errorResponses },
      },
    },
    async (request) => administration.revokeKey(request.params.id, request.params.keyId, adminActorOf(request)),
  );

  app.get(
    '/api/v2/admin/admin-keys',
    {
      config,
      schema: { summary: 'List admin keys', operationId: 'adminListAdminKeys', tags, response: { 200: listSchema({ $ref: 'AdminKey#' }), ...errorResponses } },
    },
    async () => ({ object: 'list', data: await adminKeys.list() }),
  );

  app.post(
    '/api/v2/admin/admin-keys',
    {
      config,
      schema: {
        summary: 'Create an admin key',
        operationId: 'adminCreateAdminKey',
        description: 'Shown only in this answer.',
        tags,
        response: { 201: issuedAdminKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await administration.createAdminKey(adminActorOf(request))),
  );

  app.post<{ Params: { id: string }; Body: { expiresInSeconds?: number } | undefined }>(
    '/api/v2/admin/admin-keys/:id/roll',
    {
      config,
      schema: {
        summary: 'Roll an admin key',
        operationId: 'adminRollAdminKey',
        description: 'Issues a new admin key; the old one keeps working for `expiresInSeconds`.',
        tags,
        params: projectParams,
        body: rollBody,
        response: {
          200: { type: 'object', properties: { key: issuedAdminKeySchema, previous: { $ref: 'AdminKey#' } }, required: ['key', 'previous'] },
          ...errorResponses,
        },
      },
    },
    async (request) => administration.rollAdminKey(request.params.id, request.body?.expiresInSeconds ?? 0, adminActorOf(request)),
  );
}
