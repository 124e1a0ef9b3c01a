import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf } from '../request-actor.js';
import { requestTraceParent } from '../request-tracing.js';
import type { NewOrderInput } from '../../domain/new-order.js';
import type { Order } from '../../domain/order.js';
import {
  MAX_EVENTS_PAGE,
  MAX_PAGE_SIZE,
  MAX_REASON_LENGTH,
  MAX_STATUS_FILTER,
  type OrderListQuery,
  type OrderService,
  type WriteResult,
} from '../../services/order-service.js';
import { etagOf, type CachedOrder } from '../../services/order-read-cache.js';
import { readScope } from '../auth-hook.js';
import { publicEvent } from '../event-view.js';
import { errorResponses, idParams, listSchema, pageSchema } from '../schemas.js';

export const MAX_WAIT_SECONDS = 30;

/** The version a client already holds, from an `If-None-Match: "v7"` header. */
function versionFromIfNoneMatch(header: string | undefined): number | undefined {
  const match = header ? /"v(\d+)"/.exec(header) : null;
  return match ? Number(match[1]) : undefined;
}

function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function sendOrder(reply: FastifyReply, order: Order, ifNoneMatch: string | undefined, code = 200) {
  const etag = etagOf(order.version);
  reply.header('etag', etag);
  if (code === 200 && ifNoneMatchHits(ifNoneMatch, etag)) return reply.code(304).send();
  return reply.code(code).send(order);
}

/** The polling hot path: the ETag is known without rendering, and the body is rendered once per version. */
function sendCached(reply: FastifyReply, orders: OrderService, entry: CachedOrder, ifNoneMatch: string | undefined) {
  reply.header('etag', entry.etag);
  if (ifNoneMatchHits(ifNoneMatch, entry.etag)) return reply.code(304).send();
  // A string with a JSON content type is sent as it is: Fastify does not serialise it again.
  const body = orders.readCache.bodyOf(entry, (order) => reply.serializeInput(order as unknown as Record<string, unknown>, '200') as string);
  return reply.code(200).type('application/json; charset=utf-8').send(body);
}

function sendWrite(reply: FastifyReply, result: WriteResult) {
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return sendOrder(reply, result.body, undefined, result.statusCode);
}

/** The body of `POST /orders`, and of a batch's create items. */
export const newOrderBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    externalId: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
    userExternalId: { type: ['string', 'null'], minLength: 1, maxLength: 255 },
    amount: { type: ['string', 'number', 'null'] },
    currency: { type: ['string', 'null'] },
    metadata: { type: ['object', 'null'], additionalProperties: true },
    status: { type: 'string', minLength: 1, maxLength: 64, description: 'Defaults to the first initial status' },
  },
} as const;

/** The body of `POST /orders/{id}/status`, and of a batch's transition items. */
export const transitionBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', minLength: 1, maxLength: 64 },
    reason: { type: ['string', 'null'], maxLength: MAX_REASON_LENGTH },
    expectedVersion: { type: 'integer', minimum: 1 },
  },
  required: ['status'],
} as const;

const idempotencyKeyHeader = { type: 'object', properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } } } as const;

export async function orderRoutes(app: FastifyInstance, opts: { orders: OrderService; shutdownSignal: AbortSignal }): Promise<void> {
  const { orders } = opts;

  app.post<{ Body: NewOrderInput; Headers: { 'idempotency-key'?: string } }>(
    '/api/v2/orders',
    {
      config: { allow: ['secret'], permission: 'orders:write' },
      schema: {
        summary: 'Create an order',
        operationId: 'createOrder',
        description:
          'Creates an order in an initial status of the project lifecycle. With an `Idempotency-Key` header, repeating the same request returns the first answer (with `Idempotent-Replayed: true`); the same key with a different body is a 409.',
        tags: ['orders'],
        headers: idempotencyKeyHeader,
        body: newOrderBody,
        response: { 200: { $ref: 'Order#' }, 201: { $ref: 'Order#' }, ...errorResponses },
      },
    },
    async (request, reply) =>
      sendWrite(
        reply,
        await orders.create(request.principal.projectId, request.body ?? {}, request.headers['idempotency-key'], actorOf(request), requestTraceParent(request)),
      ),
  );

  app.get<{ Params: { id: string }; Querystring: { waitForChange?: number } }>(
    '/api/v2/orders/:id',
    {
      config: { allow: ['secret', 'user'], permission: 'orders:read' },
      schema: {
        summary: 'Get an order',
        operationId: 'getOrder',
        description:
          'Returns the order with an `ETag`; `If-None-Match` with that ETag answers 304 while nothing changed. `waitForChange=N` (seconds, up to 30) holds the request until the order version differs from the one in `If-None-Match` (or the current one) or the time is up.',
        tags: ['orders'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { waitForChange: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SECONDS } },
        },
        response: { 200: { $ref: 'Order#' }, 304: { type: 'null', description: 'Not modified' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { projectId } = request.principal;
      const scope = readScope(request.principal);
      const ifNoneMatch = request.headers['if-none-match'];
      const wait = request.query.waitForChange ?? 0;
      let order: Order;
      if (wait > 0) {
        const known = versionFromIfNoneMatch(ifNoneMatch) ?? (await orders.get(projectId, request.params.id, scope)).version;
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        order = await orders.waitForChange(projectId, request.params.id, known, wait * 1000, scope, AbortSignal.any([gone.signal, opts.shutdownSignal]));
      } else {
        const entry = orders.cached(projectId, request.params.id, scope);
        if (entry) return sendCached(reply, orders, entry, ifNoneMatch);
        order = await orders.get(projectId, request.params.id, scope);
      }
      return sendOrder(reply, order, ifNoneMatch);
    },
  );

  app.get<{ Querystring: OrderListQuery }>(
    '/api/v2/orders',
    {
      config: { allow: ['secret', 'user'], permission: 'orders:read' },
      schema: {
        summary: 'List orders',
        operationId: 'listOrders',
        description:
          'Newest first. Pass `nextCursor` back as `cursor` for the next page. A user token lists only its own orders. Repeat `status` for orders in any of several statuses (`?status=PROCESSING&status=PENDING_DELIVERY`). `stuck=true` lists only orders past their expected time (docs/timing.md), with any other filter.',
        tags: ['orders'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, minItems: 1, maxItems: MAX_STATUS_FILTER },
            userExternalId: { type: 'string', minLength: 1, maxLength: 255 },
            externalId: { type: 'string', minLength: 1, maxLength: 255 },
            createdAfter: { type: 'string', maxLength: 64 },
            createdBefore: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 },
            cursor: { type: 'string', minLength: 1, maxLength: 200 },
            stuck: { type: 'boolean', description: 'true: only orders flagged stuck (past `expectedBy`); false: only the others' },
          },
        },
        response: {
          200: pageSchema('Order'),
          ...errorResponses,
        },
      },
    },
    async (request) => orders.list(request.principal.projectId, request.query, readScope(request.principal)),
  );

  app.get<{ Params: { id: string }; Querystring: { afterVersion?: number; limit?: number } }>(
    '/api/v2/orders/:id/events',
    {
      config: { allow: ['secret', 'user'], permission: 'orders:read' },
      schema: {
        summary: "An order's timeline",
        operationId: 'listOrderEvents',
        description:
          "The order's events, oldest first: its whole history, the same events webhooks and sockets deliver. Pages by version: pass the last `version` you got as `afterVersion` while `hasMore` is true.",
        tags: ['orders'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            afterVersion: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_EVENTS_PAGE, default: 100 },
          },
        },
        response: {
          200: listSchema({ $ref: 'OrderEvent#' }, { hasMore: { type: 'boolean' } }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const page = await orders.events(request.principal.projectId, request.params.id, readScope(request.principal), request.query);
      return { object: 'list', data: page.data.map(publicEvent), hasMore: page.hasMore };
    },
  );

  app.post<{ Params: { id: string }; Body: { status: string; reason?: string | null; expectedVersion?: number }; Headers: { 'idempotency-key'?: string } }>(
    '/api/v2/orders/:id/status',
    {
      config: { allow: ['secret'], permission: 'orders:write' },
      schema: {
        summary: "Change an order's status",
        operationId: 'changeOrderStatus',
        description:
          'Validated against the project lifecycle: a transition it does not allow is a 409 naming the current status and the allowed next ones. With `expectedVersion`, a stale version is a 409 too. With an `Idempotency-Key` header, a retry of the same request returns the first answer (with `Idempotent-Replayed: true`) instead of a 409.',
        tags: ['orders'],
        params: idParams,
        headers: idempotencyKeyHeader,
        body: transitionBody,
        response: { 200: { $ref: 'Order#' }, ...errorResponses },
      },
    },
    async (request, reply) =>
      sendWrite(
        reply,
        await orders.transition(
          request.principal.projectId,
          request.params.id,
          request.body,
          request.headers['idempotency-key'],
          actorOf(request),
          requestTraceParent(request),
        ),
      ),
  );
}
