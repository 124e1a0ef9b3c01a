import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditEntryInput, AuditLog } from '../../services/audit-log.js';
import { actorOf } from '../request-actor.js';
import type { WebhookDeliveryService } from '../../services/webhook-delivery-service.js';
import { MAX_ROTATION_GRACE_SECONDS, type EndpointInput, type WebhookEndpointService } from '../../services/webhook-endpoint-service.js';
import type { WebhookStatsService } from '../../services/webhook-stats-service.js';
import { errorResponses, idParams, listSchema } from '../schemas.js';

const endpointProperties = {
  url: {
    type: 'string',
    minLength: 1,
    maxLength: 2048,
    description: 'https:// URL that receives POSTs (http:// and private addresses only with ORDERCAST_WEBHOOK_ALLOW_PRIVATE=true)',
  },
  description: { type: 'string', maxLength: 500 },
  enabledEvents: {
    type: 'array',
    minItems: 1,
    maxItems: 100,
    items: { type: 'string', minLength: 1, maxLength: 128 },
    description: 'Event names of the project lifecycle to receive, or ["*"] (the default) for all',
  },
  disabled: { type: 'boolean' },
  headers: {
    type: ['object', 'null'],
    description:
      'Custom headers sent with every delivery (at most 10, 1 KB in all); not webhook-*, content-type, user-agent or hop-by-hop headers. Stored encrypted.',
  },
  rateLimit: { type: ['number', 'null'], description: 'At most this many deliveries per second to this endpoint, across every dispatcher; null for no limit' },
  maxInFlight: {
    type: ['number', 'null'],
    description: "At most this many attempts in flight at once to this endpoint (its lane), across every dispatcher; null for the server's default",
  },
  metadata: { type: ['object', 'null'], description: 'Your own key-value data (at most 4 KB of JSON)' },
} as const;

export const webhookEndpointSchema = {
  $id: 'WebhookEndpoint',
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', enum: ['webhook_endpoint'] },
    projectId: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    enabledEvents: { type: 'array', items: { type: 'string' } },
    disabled: { type: 'boolean' },
    disabledAt: { type: ['string', 'null'], format: 'date-time' },
    disabledReason: { type: ['string', 'null'], description: 'Why the endpoint was disabled: by the API, 410 Gone, or failing for too long' },
    failingSince: { type: ['string', 'null'], format: 'date-time', description: 'Start of the current run of failed attempts' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Custom headers sent with every delivery' },
    rateLimit: { type: ['integer', 'null'], description: 'Most deliveries per second; null for no limit' },
    maxInFlight: { type: ['integer', 'null'], description: "Most attempts in flight at once; null for the server's default" },
    metadata: { type: 'object', additionalProperties: true },
  },
  required: [
    'id',
    'object',
    'projectId',
    'url',
    'description',
    'enabledEvents',
    'disabled',
    'createdAt',
    'updatedAt',
    'headers',
    'rateLimit',
    'maxInFlight',
    'metadata',
  ],
} as const;

const windowStatsSchema = {
  type: 'object',
  properties: {
    since: { type: 'string', format: 'date-time' },
    succeeded: { type: 'integer', description: 'Attempts answered 2xx (each a delivery that succeeded)' },
    failed: { type: 'integer', description: 'Failed attempts (a delivery retried three times counts three)' },
    givenUp: { type: 'integer', description: 'Deliveries created in the window that were given up' },
    latencyMs: { type: 'object', properties: { p50: { type: ['integer', 'null'] }, p99: { type: ['integer', 'null'] } }, required: ['p50', 'p99'] },
  },
  required: ['since', 'succeeded', 'failed', 'givenUp', 'latencyMs'],
} as const;

const endpointStatsSchema = {
  type: 'object',
  properties: {
    object: { type: 'string', enum: ['webhook_endpoint_stats'] },
    endpointId: { type: 'string' },
    state: { type: 'string', enum: ['enabled', 'failing', 'disabled'] },
    stateSince: { type: ['string', 'null'], format: 'date-time' },
    consecutiveFailures: { type: 'integer' },
    windows: {
      type: 'object',
      properties: { hour: windowStatsSchema, day: windowStatsSchema, week: windowStatsSchema },
      required: ['hour', 'day', 'week'],
    },
  },
  required: ['object', 'endpointId', 'state', 'stateSince', 'consecutiveFailures', 'windows'],
} as const;

const endpointWithSecret = {
  type: 'object',
  properties: {
    ...webhookEndpointSchema.properties,
    secret: { type: 'string', description: 'whsec_…: shown only in this response. Verify signatures with it.' },
  },
  required: [...webhookEndpointSchema.required, 'secret'],
} as const;

export async function webhookEndpointRoutes(
  app: FastifyInstance,
  opts: { endpoints: WebhookEndpointService; deliveries: WebhookDeliveryService; stats?: WebhookStatsService; audit?: AuditLog },
): Promise<void> {
  const { endpoints, deliveries, stats } = opts;
  /** Every change to an endpoint goes to the audit log with who made it (the log drops secret values itself). */
  const recordChange = (request: FastifyRequest, action: AuditEntryInput['action'], id: string, changes: Record<string, unknown>) =>
    opts.audit?.record({ projectId: request.principal.projectId, actor: actorOf(request), action, target: { type: 'webhook_endpoint', id }, changes });
  const tags = ['webhooks'];

  app.post<{ Body: EndpointInput }>(
    '/api/v2/webhook-endpoints',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        summary: 'Create a webhook endpoint',
        operationId: 'createWebhookEndpoint',
        description:
          'Every event of the project (or those in `enabledEvents`) is POSTed to `url`, signed per Standard Webhooks. The response holds the signing secret, shown only once.',
        tags,
        body: { type: 'object', additionalProperties: false, properties: endpointProperties, required: ['url'] },
        response: { 201: endpointWithSecret, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await endpoints.create(request.principal.projectId, request.body);
      await recordChange(request, 'webhook_endpoint.created', endpoint.id, { ...request.body });
      return reply.code(201).send({ ...endpoint, secret });
    },
  );

  app.get(
    '/api/v2/webhook-endpoints',
    {
      config: { allow: ['secret'], permission: 'webhooks:read' },
      schema: {
        summary: 'List webhook endpoints',
        operationId: 'listWebhookEndpoints',
        tags,
        response: {
          200: listSchema({ $ref: 'WebhookEndpoint#' }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({ object: 'list', data: await endpoints.list(request.principal.projectId) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v2/webhook-endpoints/:id',
    {
      config: { allow: ['secret'], permission: 'webhooks:read' },
      schema: {
        summary: 'Get a webhook endpoint',
        operationId: 'getWebhookEndpoint',
        tags,
        params: idParams,
        response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses },
      },
    },
    async (request) => endpoints.get(request.principal.projectId, request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: EndpointInput }>(
    '/api/v2/webhook-endpoints/:id',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        summary: 'Update a webhook endpoint',
        operationId: 'updateWebhookEndpoint',
        description: '`{"disabled": false}` re-enables an endpoint and resets its failure clock; then `recover` re-sends what failed meanwhile.',
        tags,
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: endpointProperties },
        response: { 200: { $ref: 'WebhookEndpoint#' }, ...errorResponses },
      },
    },
    async (request) => {
      const updated = await endpoints.update(request.principal.projectId, request.params.id, request.body ?? {});
      await recordChange(request, 'webhook_endpoint.updated', request.params.id, { ...request.body });
      return updated;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v2/webhook-endpoints/:id',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        summary: 'Delete a webhook endpoint',
        operationId: 'deleteWebhookEndpoint',
        description: 'Deletes the endpoint with its delivery log; deliveries not yet sent are dropped.',
        tags,
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, object: { type: 'string', enum: ['webhook_endpoint'] }, deleted: { type: 'boolean' } },
            required: ['id', 'object', 'deleted'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await endpoints.remove(request.principal.projectId, request.params.id);
      await recordChange(request, 'webhook_endpoint.deleted', request.params.id, {});
      return { id: request.params.id, object: 'webhook_endpoint', deleted: true };
    },
  );

  app.post<{ Params: { id: string }; Body: { graceSeconds?: number } | undefined }>(
    '/api/v2/webhook-endpoints/:id/rotate-secret',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        summary: "Rotate an endpoint's signing secret",
        operationId: 'rotateWebhookEndpointSecret',
        description:
          'Returns a new secret. Until `previousSecretExpiresAt` (default: 24 h) every delivery carries two `v1,` signatures, one per secret, so the receiver can switch without dropping a webhook.',
        tags,
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: MAX_ROTATION_GRACE_SECONDS } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              object: { type: 'string', enum: ['webhook_secret'] },
              endpointId: { type: 'string' },
              secret: { type: 'string' },
              previousSecretExpiresAt: { type: 'string', format: 'date-time' },
            },
            required: ['object', 'endpointId', 'secret', 'previousSecretExpiresAt'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { secret, previousSecretExpiresAt } = await endpoints.rotateSecret(request.principal.projectId, request.params.id, request.body?.graceSeconds);
      await recordChange(request, 'webhook_endpoint.secret_rotated', request.params.id, { previousSecretExpiresAt });
      return { object: 'webhook_secret', endpointId: request.params.id, secret, previousSecretExpiresAt };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v2/webhook-endpoints/:id/test',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        summary: 'Send a signed test event',
        operationId: 'sendWebhookEndpointTest',
        description: 'Queues a `WEBHOOK_TEST` event for this endpoint through the normal outbox (signed, retried, logged). Returns the delivery.',
        tags,
        params: idParams,
        response: { 202: { $ref: 'WebhookDelivery#' }, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(202).send(await deliveries.enqueueTest(request.principal.projectId, request.params.id)),
  );

  app.post<{ Params: { id: string }; Body: { eventType?: unknown } }>(
    '/api/v2/webhook-endpoints/:id/send-example',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        operationId: 'sendWebhookEndpointExample',
        summary: "Send an event type's example",
        description:
          'Queues the example of `eventType` from `GET /event-types` for this endpoint, whatever its event filter, through the normal outbox: signed, retried and logged like any delivery, with `"test": true` in the body. Returns the delivery.',
        tags,
        params: idParams,
        body: { type: 'object', properties: { eventType: { description: 'An event type name, such as ORDER_COMPLETED' } }, required: ['eventType'] },
        response: { 202: { $ref: 'WebhookDelivery#' }, 422: { $ref: 'Error#' }, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(202).send(await deliveries.sendExample(request.principal.projectId, request.params.id, request.body.eventType)),
  );

  if (stats) {
    app.get<{ Params: { id: string } }>(
      '/api/v2/webhook-endpoints/:id/stats',
      {
        config: { allow: ['secret'], permission: 'webhooks:read' },
        schema: {
          operationId: 'getWebhookEndpointStats',
          summary: "An endpoint's health",
          description:
            'The state (enabled, failing, disabled) and since when, and over the last hour, day and week: attempts that succeeded and failed, and their latency (p50, p99, ms).',
          tags,
          params: idParams,
          response: { 200: endpointStatsSchema, ...errorResponses },
        },
      },
      async (request) => stats.stats(request.principal.projectId, request.params.id),
    );
  }

  app.post<{ Params: { id: string }; Body: { since: string; until?: string } }>(
    '/api/v2/webhook-endpoints/:id/recover',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        summary: 'Re-send failed deliveries of a time window',
        operationId: 'recoverWebhookDeliveries',
        description:
          'Every delivery to this endpoint that failed (was given up) and was created in [since, until) is queued again with a fresh retry schedule.',
        tags,
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { since: { type: 'string', maxLength: 64 }, until: { type: 'string', maxLength: 64 } },
          required: ['since'],
        },
        response: {
          202: {
            type: 'object',
            properties: {
              object: { type: 'string', enum: ['webhook_recovery'] },
              endpointId: { type: 'string' },
              since: { type: 'string' },
              until: { type: 'string' },
              requeued: { type: 'integer' },
            },
            required: ['object', 'endpointId', 'since', 'until', 'requeued'],
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => reply.code(202).send(await deliveries.recover(request.principal.projectId, request.params.id, request.body)),
  );
}
