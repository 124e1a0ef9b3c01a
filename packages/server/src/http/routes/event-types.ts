import type { FastifyInstance } from 'fastify';
import { OrdercastError } from '../../domain/errors.js';
import type { WebhookEndpointService } from '../../services/webhook-endpoint-service.js';
import { errorResponses, listSchema } from '../schemas.js';

/**
 * The event catalogue. Routes usually refuse other credentials in the auth hook with
 * `forbidden`; this one admits them so that a user token or a publishable key gets
 * its own code, `secret_key_required`: the catalogue is for the merchant's backend.
 */
export async function eventTypeRoutes(app: FastifyInstance, opts: { endpoints: WebhookEndpointService }): Promise<void> {
  app.get(
    '/api/v2/event-types',
    {
      config: { allow: ['secret', 'user', 'publishable'], permission: 'webhooks:read' },
      schema: {
        operationId: 'listEventTypes',
        summary: 'List the event types webhooks carry',
        description:
          "One entry per event the project's lifecycle can emit, plus the operational events (endpoint.failing, endpoint.recovered, endpoint.disabled, delivery.exhausted) and WEBHOOK_TEST. `schema` is a JSON Schema (2020-12) of the whole webhook body; `example` is valid against it. Needs a secret key.",
        tags: ['webhooks'],
        response: {
          200: listSchema({
            type: 'object',
            properties: {
              name: { type: 'string' },
              description: { type: 'string' },
              schema: { type: 'object', additionalProperties: true },
              example: { type: 'object', additionalProperties: true },
            },
            required: ['name', 'description', 'schema', 'example'],
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      if (request.principal.kind !== 'secret' && request.principal.kind !== 'dashboard') {
        throw new OrdercastError(
          'secret_key_required',
          `The event catalogue needs a secret key (sk_…); this ${request.principal.kind === 'user' ? 'user token' : 'publishable key'} cannot read it`,
        );
      }
      return { object: 'list', data: await opts.endpoints.eventTypes(request.principal.projectId) };
    },
  );
}
