import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifySchemaValidationError } from 'fastify';
import { actorOf } from '../request-actor.js';
import { requestTraceParent } from '../request-tracing.js';
import { isOrdercastError, OrdercastError } from '../../domain/errors.js';
import { isDatabaseUnavailable } from '../../lib/database-errors.js';
import { MAX_BATCH_ITEMS, type BatchItem, type BatchItemResult, type OrderService } from '../../services/order-service.js';
import { errorBody } from '../error-body.js';
import { validationFailed } from '../error-handler.js';
import { ERROR_STATUS } from '../error-status.js';
import { errorResponses, listSchema } from '../schemas.js';
import { newOrderBody, transitionBody } from './orders.js';

interface BatchRequestItem {
  kind: 'create' | 'transition';
  orderId?: string;
  idempotencyKey?: string;
  body: Record<string, unknown>;
}

const batchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH_ITEMS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'body'],
        properties: {
          kind: { type: 'string', enum: ['create', 'transition'] },
          orderId: { type: 'string', description: 'The order a transition moves (required for one)' },
          idempotencyKey: {
            type: 'string',
            minLength: 1,
            maxLength: 255,
            description: "This item's Idempotency-Key: a retry of the same item replays its first answer, as on the single routes",
          },
          body: {
            type: 'object',
            description: 'The body of `POST /orders` for a create, of `POST /orders/{id}/status` for a transition; checked item by item',
          },
        },
      },
    },
  },
} as const;

const itemResult = {
  type: 'object',
  properties: {
    status: { type: 'integer', description: 'The HTTP status the single route would have answered' },
    replayed: { type: 'boolean', description: 'Present and true when the idempotency key replayed an earlier answer' },
    body: { anyOf: [{ $ref: 'Order#' }, { $ref: 'Error#' }] },
  },
  required: ['status', 'body'],
} as const;

type Validate = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null };

/** What renders an item's body: the single routes' own serializers. */
const ORDER = { $ref: 'Order#' } as const;
const ERROR = { $ref: 'Error#' } as const;

/** An item's error as its single route would answer it: the same status and body. */
function errorResult(error: unknown, log: FastifyBaseLogger) {
  if (isOrdercastError(error)) return { status: ERROR_STATUS[error.code], body: errorBody(error.code, error.message, error.details) };
  if (isDatabaseUnavailable(error)) {
    return { status: 503, body: errorBody('database_unavailable', 'The database cannot be reached right now; retry shortly') };
  }
  log.error({ err: error }, 'unhandled error in a batch item');
  return { status: 500, body: errorBody('internal_error', 'Something went wrong on our side with this item') };
}

export async function orderBatchRoutes(app: FastifyInstance, opts: { orders: OrderService }): Promise<void> {
  const { orders } = opts;
  // Each item's body is checked against its single route's schema, so a bad one fails alone, with that route's answer.
  const compile = (schema: object, url: string) => app.validatorCompiler!({ schema, method: 'POST', url, httpPart: 'body' }) as Validate;
  const validCreate = compile(newOrderBody, '/api/v2/orders');
  const validTransition = compile(transitionBody, '/api/v2/orders/:id/status');

  /** The item as the service takes it, or the validation error its single route would answer. */
  function itemOf(item: BatchRequestItem): BatchItem | OrdercastError {
    const key = item.idempotencyKey;
    if (item.kind === 'create') {
      if (!validCreate(item.body)) return validationFailed(validCreate.errors ?? [], 'body');
      return { kind: 'create', body: item.body, idempotencyKey: key };
    }
    if (typeof item.orderId !== 'string' || item.orderId.length === 0 || item.orderId.length > 100) {
      return new OrdercastError('validation_failed', 'orderId: a transition item names the order it moves (1 to 100 characters)', { field: 'orderId' });
    }
    if (!validTransition(item.body)) return validationFailed(validTransition.errors ?? [], 'body');
    return { kind: 'transition', orderId: item.orderId, body: item.body as { status: string }, idempotencyKey: key };
  }

  app.post<{ Body: { items: BatchRequestItem[] } }>(
    '/api/v2/orders/batch',
    {
      config: { allow: ['secret'], permission: 'orders:write' },
      schema: {
        summary: 'Create and move many orders in one request',
        operationId: 'batchOrders',
        description: `Up to ${MAX_BATCH_ITEMS} creates and transitions, applied in order as one write (one transaction): for a backend that syncs status changes from its own systems. The answer has one result per item, in order, with the status and body its single route would have answered (\`POST /orders\`, \`POST /orders/{id}/status\`); one bad item does not fail the others, and two items moving one order apply in that order. Each item may carry its own idempotency key. The whole request is refused, with nothing written, for an empty list, more than ${MAX_BATCH_ITEMS} items, an item of an unknown kind (\`validation_failed\`), two items using one idempotency key for different requests (\`idempotency_key_reused\`), or a body over the size limit (\`payload_too_large\`).`,
        tags: ['orders'],
        body: batchBody,
        response: { 200: listSchema(itemResult), ...errorResponses },
      },
    },
    async (request, reply) => {
      const items = request.body.items.map(itemOf);
      const valid = items.filter((item): item is BatchItem => !(item instanceof OrdercastError));
      const answered = await orders.batch(request.principal.projectId, valid, actorOf(request), requestTraceParent(request));
      let next = 0;
      const results = items.map((item) => (item instanceof OrdercastError ? ({ ok: false, error: item } as BatchItemResult) : answered[next++]!));
      // Rendered item by item with the Order and Error serializers: the list schema's `anyOf`
      // would have the serializer validate every order against both to pick one.
      const data = results.map((result) => renderedResult(reply, result, request.log)).join(',');
      // A string with a JSON content type is sent as it is: Fastify does not serialise it again.
      return reply.type('application/json; charset=utf-8').send(`{"object":"list","data":[${data}]}`);
    },
  );
}

/** One item of the answer, as JSON: `{status, replayed?, body}`. */
function renderedResult(reply: FastifyReply, result: BatchItemResult, log: FastifyBaseLogger): string {
  if (result.ok) {
    const { statusCode, replayed, body } = result.result;
    return `{"status":${statusCode},${replayed ? '"replayed":true,' : ''}"body":${reply.serializeInput(body as unknown as Record<string, unknown>, ORDER)}}`;
  }
  const { status, body } = errorResult(result.error, log);
  return `{"status":${status},"body":${reply.serializeInput(body as unknown as Record<string, unknown>, ERROR)}}`;
}
