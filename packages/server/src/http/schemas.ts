/** JSON schemas shared by routes: they validate, serialise, and become the OpenAPI document. */
const nullableString = { type: ['string', 'null'] } as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every error has this shape; `code` is stable and safe to branch on.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {},
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

export const statusHistoryEntrySchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    reason: nullableString,
    at: { type: 'string', format: 'date-time' },
    version: { type: 'integer' },
  },
  required: ['status', 'reason', 'at', 'version'],
} as const;

export const orderSchema = {
  $id: 'Order',
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Server-assigned, unguessable, URL-safe' },
    object: { type: 'string', enum: ['order'] },
    projectId: { type: 'string' },
    externalId: { ...nullableString, description: "The merchant's own reference, unique per project" },
    userExternalId: { ...nullableString, description: 'The end customer; user tokens for this id can read the order' },
    amount: { ...nullableString, description: 'Exact decimal, as a string' },
    currency: nullableString,
    metadata: { type: 'object', additionalProperties: true },
    status: { type: 'string' },
    version: { type: 'integer', description: 'Starts at 1 and grows by 1 with every change; the same number on every channel' },
    final: { type: 'boolean', description: 'True once the status is a final status of the lifecycle' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    statusHistory: { type: 'array', items: statusHistoryEntrySchema },
    expectedBy: {
      type: ['string', 'null'],
      format: 'date-time',
      description: "When the order should leave its status (the lifecycle's `expectedWithin`); null without one, or once final",
    },
    eta: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When it should reach a successful final status along the happy path; null when unknown',
    },
    stuck: { type: 'boolean', description: 'Still in its status past `expectedBy` (an `order.stuck` event said so); moving on clears it' },
  },
  required: ['id', 'object', 'projectId', 'status', 'version', 'final', 'createdAt', 'updatedAt', 'statusHistory', 'expectedBy', 'eta', 'stuck'],
} as const;

export const orderEventSchema = {
  $id: 'OrderEvent',
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', enum: ['event'] },
    type: { type: 'string', enum: ['order.created', 'order.status_changed', 'order.stuck'] },
    eventName: { type: 'string', description: 'The lifecycle event name, as webhooks carry it' },
    orderId: { type: 'string' },
    fromStatus: nullableString,
    toStatus: { type: 'string' },
    reason: nullableString,
    version: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    actor: {
      type: ['object', 'null'],
      description:
        'The credential that caused the event: a key (`secret_key` and its id), a dashboard session (its id and role) or the CLI; null for events written before this was kept',
      properties: { kind: { type: 'string' }, id: { type: ['string', 'null'] }, role: { type: 'string', enum: ['viewer', 'operator'] } },
      required: ['kind', 'id'],
    },
  },
  required: ['id', 'object', 'type', 'eventName', 'orderId', 'toStatus', 'version', 'createdAt'],
} as const;

/** The path parameters of a route on one resource, `/…/:id` (an order, an endpoint, a delivery, a project). */
export const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['id'] } as const;

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  413: { $ref: 'Error#' },
  429: { $ref: 'Error#' },
} as const;

/**
 * A list: `{object: "list", data: [items]}`, with any further properties (`hasMore`,
 * `nextCursor`) named in `more`, each required.
 */
export function listSchema(items: object, more: Record<string, object> = {}) {
  return {
    type: 'object',
    properties: { object: { type: 'string', enum: ['list'] }, data: { type: 'array', items }, ...more },
    required: ['object', 'data', ...Object.keys(more)],
  } as const;
}

/** A page of a cursor-paginated list: `{object: "list", data, hasMore, nextCursor}`. */
export function pageSchema(itemRef: string) {
  return listSchema({ $ref: `${itemRef}#` }, { hasMore: { type: 'boolean' }, nextCursor: { type: ['string', 'null'] } });
}
