import type { FastifyInstance } from 'fastify';
import type { ProjectService } from '../../services/project-service.js';
import type { ProjectQuotaService } from '../../services/project-quotas.js';
import { errorResponses } from '../schemas.js';
import { quotasSchema } from './quota-schemas.js';

export const lifecycleSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    statuses: { type: 'array', items: { type: 'string' } },
    initial: { type: 'array', items: { type: 'string' } },
    final: { type: 'array', items: { type: 'string' } },
    transitions: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    createdEventName: { type: 'string' },
    eventNames: { type: 'object', additionalProperties: { type: 'string' } },
    expectedWithin: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'How long an order should stay in each non-final status ("10m", "2h", "3d"); see docs/timing.md',
    },
    display: {
      type: 'object',
      description: 'Per status and locale, the `label` and `description` a buyer sees (docs/buyer-view.md); absent when the lifecycle has none',
      additionalProperties: {
        type: 'object',
        additionalProperties: { type: 'object', properties: { label: { type: 'string' }, description: { type: 'string' } }, required: ['label'] },
      },
    },
  },
  required: ['name', 'statuses', 'initial', 'final', 'transitions', 'createdEventName', 'eventNames'],
} as const;

/** Read-only facts about the caller's own project, so a client can draw its lifecycle and show its keys. */
export async function projectRoutes(app: FastifyInstance, opts: { projects: ProjectService; quotas?: ProjectQuotaService }): Promise<void> {
  app.get(
    '/api/v2/project',
    {
      config: { allow: ['secret'], permission: 'orders:read' },
      schema: {
        summary: "The secret key's project",
        operationId: 'getProject',
        description:
          'The project name, its lifecycle (statuses, initial and final statuses, allowed transitions, event names), the prefixes of the keys that still work (a rotated key in its grace period has `expiresAt`), and its quotas. Never a full key or secret.',
        tags: ['project'],
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              object: { type: 'string', enum: ['project'] },
              name: { type: 'string' },
              createdAt: { type: 'string', format: 'date-time' },
              lifecycle: lifecycleSchema,
              keys: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kind: { type: 'string', enum: ['secret', 'publishable', 'restricted'] },
                    prefix: { type: 'string', description: 'The first 11 characters of the key' },
                    createdAt: { type: 'string', format: 'date-time' },
                    expiresAt: { type: ['string', 'null'], format: 'date-time' },
                  },
                  required: ['kind', 'prefix', 'createdAt', 'expiresAt'],
                },
              },
              quotas: {
                ...quotasSchema,
                description: "What the project may use (its operator's overrides, or the server's defaults): see docs/operations.md, Quotas",
              },
            },
            required: ['id', 'object', 'name', 'createdAt', 'lifecycle', 'keys'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const project = await opts.projects.describe(request.principal.projectId);
      return opts.quotas ? { ...project, quotas: await opts.quotas.effective(request.principal.projectId) } : project;
    },
  );
}
