import type { FastifyInstance } from 'fastify';
import { DEFAULT_LINK_SECONDS, MAX_LINK_SECONDS, MIN_LINK_SECONDS, type OrderLinkService } from '../../services/order-link-service.js';
import { actorOf } from '../request-actor.js';
import { errorResponses, idParams } from '../schemas.js';

/** `POST` and `DELETE /api/v2/orders/{id}/links`: a buyer's read-only link to one order (see docs/buyer-view.md). */
export async function orderLinkRoutes(app: FastifyInstance, opts: { links: OrderLinkService }): Promise<void> {
  app.post<{ Params: { id: string }; Body: { expiresIn?: number } | undefined }>(
    '/api/v2/orders/:id/links',
    {
      config: { allow: ['secret'], permission: 'orders:write' },
      schema: {
        operationId: 'createOrderLink',
        summary: 'Create a link a buyer can open to follow one order',
        description:
          'Returns the URL of the hosted status page (`/o/{token}`) for this order, read-only, until `expiresAt` (default 30 days, at most a year) or until the links of the order are revoked. The token is shown once; only its hash is stored. It works only on `/o/`, never as a Bearer credential.',
        tags: ['orders'],
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            expiresIn: {
              type: 'integer',
              minimum: MIN_LINK_SECONDS,
              maximum: MAX_LINK_SECONDS,
              description: `Seconds until the link lapses (default ${DEFAULT_LINK_SECONDS}, 30 days; at most ${MAX_LINK_SECONDS}, a year)`,
            },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              object: { type: 'string', enum: ['order_link'] },
              orderId: { type: 'string' },
              url: { type: 'string', description: 'The page; append `/status.json` or `/events` for the JSON view and its live stream' },
              expiresAt: { type: 'string', format: 'date-time' },
            },
            required: ['object', 'orderId', 'url', 'expiresAt'],
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const created = await opts.links.create(
        request.principal.projectId,
        request.params.id,
        request.body?.expiresIn ?? DEFAULT_LINK_SECONDS,
        actorOf(request),
      );
      reply.code(201);
      return {
        object: 'order_link',
        orderId: request.params.id,
        url: `${request.protocol}://${request.host}/o/${created.token}`,
        expiresAt: created.expiresAt,
      };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v2/orders/:id/links',
    {
      config: { allow: ['secret'], permission: 'orders:write' },
      schema: {
        operationId: 'revokeOrderLinks',
        summary: 'Revoke every link to an order',
        description: 'Every link made for this order stops working at once, on every node: its page answers 410 and its open streams end.',
        tags: ['orders'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: {
              object: { type: 'string', enum: ['order_link_revocation'] },
              orderId: { type: 'string' },
              revoked: { type: 'integer', description: 'How many live links were revoked' },
            },
            required: ['object', 'orderId', 'revoked'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      object: 'order_link_revocation',
      orderId: request.params.id,
      revoked: await opts.links.revokeAll(request.principal.projectId, request.params.id, actorOf(request)),
    }),
  );
}
