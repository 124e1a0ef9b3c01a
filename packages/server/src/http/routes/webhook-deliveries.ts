import type { FastifyInstance } from 'fastify';
import { MAX_DELIVERY_PAGE, type DeliveryListQuery, type WebhookDeliveryService } from '../../services/webhook-delivery-service.js';
import { errorResponses, idParams, pageSchema } from '../schemas.js';

export const webhookDeliverySchema = {
  $id: 'WebhookDelivery',
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The `webhook-id` header: the same on every attempt' },
    object: { type: 'string', enum: ['webhook_delivery'] },
    projectId: { type: 'string' },
    endpointId: { type: 'string' },
    eventId: { type: 'string', description: 'The `id` in the body' },
    eventName: { type: 'string' },
    orderId: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['pending', 'succeeded', 'failed'], description: 'failed: given up (retries exhausted, 410 Gone, or endpoint disabled)' },
    attemptCount: { type: 'integer' },
    nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    lastStatusCode: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    completedAt: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['id', 'object', 'endpointId', 'eventId', 'eventName', 'status', 'attemptCount', 'createdAt'],
} as const;

const attemptSchema = {
  type: 'object',
  properties: {
    attemptedAt: { type: 'string', format: 'date-time' },
    durationMs: { type: 'integer' },
    url: { type: 'string' },
    outcome: { type: 'string', enum: ['succeeded', 'failed'] },
    statusCode: { type: ['integer', 'null'] },
    responseHeaders: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    responseBody: { type: ['string', 'null'], description: 'The first 4 KiB of the response body' },
    errorCode: {
      type: ['string', 'null'],
      description:
        'When no response came back: timeout, connect_timeout, connection_refused, connection_reset, address_not_allowed, dns_error, tls_error, network_error',
    },
    error: { type: ['string', 'null'] },
  },
  required: ['attemptedAt', 'durationMs', 'outcome', 'statusCode', 'errorCode', 'error'],
} as const;

export async function webhookDeliveryRoutes(app: FastifyInstance, opts: { deliveries: WebhookDeliveryService }): Promise<void> {
  const { deliveries } = opts;
  const tags = ['webhooks'];

  app.get<{ Querystring: DeliveryListQuery }>(
    '/api/v2/webhook-deliveries',
    {
      config: { allow: ['secret'], permission: 'webhooks:read' },
      schema: {
        summary: 'List webhook deliveries',
        operationId: 'listWebhookDeliveries',
        description: 'Newest first; pass `nextCursor` back as `cursor` for the next page.',
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            endpointId: { type: 'string', minLength: 1, maxLength: 100 },
            orderId: { type: 'string', minLength: 1, maxLength: 100 },
            status: { type: 'string', enum: ['pending', 'succeeded', 'failed'] },
            limit: { type: 'integer', minimum: 1, maximum: MAX_DELIVERY_PAGE, default: 20 },
            cursor: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: {
          200: pageSchema('WebhookDelivery'),
          ...errorResponses,
        },
      },
    },
    async (request) => deliveries.list(request.principal.projectId, request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v2/webhook-deliveries/:id',
    {
      config: { allow: ['secret'], permission: 'webhooks:read' },
      schema: {
        summary: 'Get a webhook delivery with its attempts',
        operationId: 'getWebhookDelivery',
        tags,
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: { ...webhookDeliverySchema.properties, payload: {}, attempts: { type: 'array', items: attemptSchema } },
            required: [...webhookDeliverySchema.required, 'payload', 'attempts'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => deliveries.get(request.principal.projectId, request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v2/webhook-deliveries/:id/redeliver',
    {
      config: { allow: ['secret'], permission: 'webhooks:write' },
      schema: {
        summary: 'Send a delivery again',
        operationId: 'redeliverWebhookDelivery',
        description: 'Queues the delivery again at once with a fresh retry schedule; it keeps its `webhook-id`, so receivers can still de-duplicate.',
        tags,
        params: idParams,
        response: { 202: { $ref: 'WebhookDelivery#' }, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(202).send(await deliveries.redeliver(request.principal.projectId, request.params.id)),
  );
}
