import type { FastifyInstance } from 'fastify';
import type { OrderExpungeService } from '../../services/order-expunge-service.js';
import { errorResponses, idParams } from '../schemas.js';

export async function orderExpungeRoutes(app: FastifyInstance, opts: { expunge: OrderExpungeService }): Promise<void> {
  app.post<{ Params: { id: string } }>(
    '/api/v2/orders/:id/expunge',
    {
      config: { allow: ['secret'], permission: 'orders:write' },
      schema: {
        operationId: 'expungeOrder',
        summary: "Erase an order's personal data",
        description:
          "Empties `userExternalId` and `metadata` on the order, in the snapshot of each of its events, in its stored webhook payloads (and drops the receivers' answers to them) and in the stored answers of its idempotency keys. The order keeps its id, amounts, statuses and history. The expunge is recorded. Calling it again is harmless.",
        tags: ['orders'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: {
              object: { type: 'string', enum: ['order_expunge'] },
              orderId: { type: 'string' },
              expungedAt: { type: 'string', format: 'date-time' },
              events: { type: 'integer' },
              deliveries: { type: 'integer' },
            },
            required: ['object', 'orderId', 'expungedAt', 'events', 'deliveries'],
          },
          ...errorResponses,
        },
      },
    },
    async (request) => opts.expunge.expunge(request.principal.projectId, request.params.id),
  );
}
