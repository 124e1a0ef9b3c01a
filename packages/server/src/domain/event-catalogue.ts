import type { Lifecycle } from './lifecycle.js';
import {
  DELIVERY_EXHAUSTED,
  ENDPOINT_DISABLED,
  ENDPOINT_FAILING,
  ENDPOINT_RECOVERED,
  TEST_EVENT_NAME,
  deliveryExhaustedPayload,
  endpointEventPayload,
  testPayload,
  type EndpointEventName,
} from './operational-events.js';
import type { Order, StatusHistoryEntry } from './order.js';
import { ORDER_STUCK } from './order-decisions.js';
import { hasExpectedTimes, timingOf } from './order-timing.js';
import type { WebhookPayload } from './webhook-payload.js';

/** One event type a project's endpoints can receive: `GET /event-types`, and the OpenAPI `webhooks`. */
export interface EventType {
  name: string;
  description: string;
  /** A JSON Schema (2020-12) of the whole webhook body. */
  schema: JsonSchema;
  /** A body of this type, valid against `schema`. */
  example: WebhookPayload;
}

export type JsonSchema = Record<string, unknown>;

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

const EXAMPLE_TIME = '2026-01-15T12:00:00.000Z';
const nullableString = { type: ['string', 'null'] };
const dateTime = { type: 'string', format: 'date-time' };
const dateTimeOrNull = { type: ['string', 'null'], format: 'date-time' };

function statusHistorySchema(statuses: string[]): JsonSchema {
  return {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      properties: { status: { enum: statuses }, reason: nullableString, at: dateTime, version: { type: 'integer', minimum: 1 } },
      required: ['status', 'reason', 'at', 'version'],
    },
  };
}

/** The order as every channel carries it, with `status` (and `final`) narrowed to what this event can carry. */
function orderSchema(lifecycle: Lifecycle, statuses: string[]): JsonSchema {
  const finals = new Set(statuses.map((s) => lifecycle.final.includes(s)));
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      id: { type: 'string' },
      object: { const: 'order' },
      projectId: { type: 'string' },
      externalId: nullableString,
      userExternalId: nullableString,
      amount: { ...nullableString, description: 'Exact decimal, as a string' },
      currency: nullableString,
      metadata: { type: 'object' },
      status: statuses.length === 1 ? { const: statuses[0] } : { enum: statuses },
      version: { type: 'integer', minimum: 1 },
      final: finals.size === 1 ? { const: [...finals][0] } : { type: 'boolean' },
      createdAt: dateTime,
      updatedAt: dateTime,
      statusHistory: statusHistorySchema(lifecycle.statuses),
      expectedBy: { ...dateTimeOrNull, description: "When the order should leave its status (the lifecycle's `expectedWithin`); null without one" },
      eta: { ...dateTimeOrNull, description: 'When it should reach a successful final status along the happy path; null when unknown' },
      stuck: { type: 'boolean', description: 'Still in its status past `expectedBy` (an `order.stuck` event said so); moving on clears it' },
    },
    required: [
      'id',
      'object',
      'projectId',
      'externalId',
      'userExternalId',
      'amount',
      'currency',
      'metadata',
      'status',
      'version',
      'final',
      'createdAt',
      'updatedAt',
      'statusHistory',
      'expectedBy',
      'eta',
      'stuck',
    ],
  };
}

/** The envelope every webhook body shares; `test` is true on examples sent on demand. */
function payloadSchema(eventName: string, title: string, data: JsonSchema): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    title,
    type: 'object',
    additionalProperties: false,
    properties: {
      id: { type: 'string', description: 'The event id: the same on every channel and every retry' },
      eventName: { const: eventName },
      createdAt: dateTime,
      test: { type: 'boolean', description: 'Present, and true, only on examples sent on demand (`POST /webhook-endpoints/{id}/send-example`)' },
      data,
    },
    required: ['id', 'eventName', 'createdAt', 'data'],
  };
}

/** The shortest path of statuses from an initial one to `target` (the order's history in the example). */
export function pathTo(lifecycle: Lifecycle, target: string): string[] | undefined {
  const previous = new Map<string, string | null>();
  const queue: string[] = [];
  for (const s of lifecycle.initial) {
    previous.set(s, null);
    queue.push(s);
  }
  while (queue.length > 0) {
    const current = queue.shift()!;
    if (current === target) {
      const path: string[] = [];
      for (let s: string | null = current; s !== null; s = previous.get(s) ?? null) path.unshift(s);
      return path;
    }
    for (const next of lifecycle.transitions[current] ?? []) {
      if (!previous.has(next)) {
        previous.set(next, current);
        queue.push(next);
      }
    }
  }
  return undefined;
}

function exampleOrder(lifecycle: Lifecycle, path: string[], stuck = false): Order {
  const start = Date.parse(EXAMPLE_TIME);
  const history: StatusHistoryEntry[] = path.map((status, i) => ({
    status,
    reason: null,
    at: new Date(start + i * 60_000).toISOString(),
    version: i + 1,
  }));
  const last = history[history.length - 1]!;
  return {
    id: 'ord_example',
    object: 'order',
    projectId: 'prj_example',
    externalId: 'merchant-ref-42',
    userExternalId: 'user-42',
    amount: '25.00',
    currency: 'EUR',
    metadata: { cart: 'c-42' },
    status: last.status,
    version: last.version,
    final: lifecycle.final.includes(last.status),
    createdAt: history[0]!.at,
    updatedAt: last.at,
    statusHistory: history,
    ...timingOf(lifecycle, last.status, last.at),
    stuck,
  };
}

/** `order.stuck`, when the lifecycle expects orders to leave some status in time. */
function stuckEventType(lifecycle: Lifecycle): EventType | undefined {
  if (!hasExpectedTimes(lifecycle)) return undefined;
  const timed = lifecycle.statuses.filter((s) => lifecycle.expectedWithin[s] !== undefined);
  const example = exampleOrder(lifecycle, pathTo(lifecycle, timed[0]!)!, true);
  const flaggedAt = new Date(Date.parse(example.expectedBy!) + 1_000).toISOString();
  return {
    name: ORDER_STUCK,
    description: `An order is still in ${timed.join(' or ')} past its \`expectedBy\` (the lifecycle's \`expectedWithin\`). Sent once per order version; \`data\` is the order with \`stuck: true\`. Moving on clears it.`,
    schema: payloadSchema(ORDER_STUCK, `${ORDER_STUCK} webhook`, orderSchema(lifecycle, timed)),
    example: { id: 'evt_example', eventName: ORDER_STUCK, createdAt: flaggedAt, data: { ...example, version: example.version + 1, updatedAt: flaggedAt } },
  };
}

/** The events orders of this lifecycle emit: creation, then one per status entered (statuses may share a name). */
function lifecycleEventTypes(lifecycle: Lifecycle): EventType[] {
  const types: EventType[] = [];
  const initialPath = [lifecycle.initial[0]!];
  types.push({
    name: lifecycle.createdEventName,
    description: `An order was created, in one of the initial statuses (${lifecycle.initial.join(', ')}). \`data\` is the order.`,
    schema: payloadSchema(lifecycle.createdEventName, `${lifecycle.createdEventName} webhook`, orderSchema(lifecycle, lifecycle.initial)),
    example: { id: 'evt_example', eventName: lifecycle.createdEventName, createdAt: EXAMPLE_TIME, data: exampleOrder(lifecycle, initialPath) },
  });
  const byName = new Map<string, string[]>();
  for (const status of lifecycle.statuses) {
    const name = lifecycle.eventNames[status]!;
    // A status entered only at creation never emits its own event.
    if (!Object.values(lifecycle.transitions).some((targets) => targets.includes(status))) continue;
    byName.set(name, [...(byName.get(name) ?? []), status]);
  }
  for (const [name, statuses] of byName) {
    if (name === lifecycle.createdEventName) continue;
    const path = pathTo(lifecycle, statuses[0]!)!;
    // An example reaching the status by a transition: at least two entries.
    const walk = path.length > 1 ? path : [...(pathToVia(lifecycle, statuses[0]!) ?? path)];
    const example = exampleOrder(lifecycle, walk);
    types.push({
      name,
      description: `An order moved to ${statuses.join(' or ')}${statuses.every((s) => lifecycle.final.includes(s)) ? ' (a final status)' : ''}. \`data\` is the order right after the change.`,
      schema: payloadSchema(name, `${name} webhook`, orderSchema(lifecycle, statuses)),
      example: { id: 'evt_example', eventName: name, createdAt: example.updatedAt, data: example },
    });
  }
  const stuck = stuckEventType(lifecycle);
  if (stuck) types.push(stuck);
  return types;
}

/** A path that enters `target` by a transition, for statuses that are also initial. */
function pathToVia(lifecycle: Lifecycle, target: string): string[] | undefined {
  for (const [from, targets] of Object.entries(lifecycle.transitions)) {
    if (!targets.includes(target)) continue;
    const path = pathTo(lifecycle, from);
    if (path) return [...path, target];
  }
  return undefined;
}

const endpointDataSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    object: { const: 'webhook_endpoint' },
    id: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    metadata: { type: 'object' },
    state: { enum: ['enabled', 'failing', 'disabled'] },
    disabled: { type: 'boolean' },
    disabledAt: { ...nullableString, format: 'date-time' },
    disabledReason: nullableString,
    failingSince: { ...nullableString, format: 'date-time' },
    consecutiveFailures: { type: 'integer', minimum: 0 },
  },
  required: ['object', 'id', 'url', 'description', 'metadata', 'state', 'disabled', 'disabledAt', 'disabledReason', 'failingSince', 'consecutiveFailures'],
};

const exampleEndpoint = {
  id: 'we_example',
  url: 'https://merchant.example.com/webhooks/ordercast',
  description: 'Order updates',
  metadata: { team: 'payments' },
};

function endpointEventType(name: EndpointEventName, description: string, example: WebhookPayload): EventType {
  return { name, description, schema: payloadSchema(name, `${name} webhook`, endpointDataSchema), example };
}

/** The operational events and the test event: the same for every project. */
export function operationalEventTypes(): EventType[] {
  const failingSince = '2026-01-15T11:52:00.000Z';
  return [
    endpointEventType(
      ENDPOINT_FAILING,
      "One of the project's endpoints has failed this many attempts in a row (ORDERCAST_WEBHOOK_FAILING_AFTER, 5 by default). Sent once per run of failures.",
      endpointEventPayload(ENDPOINT_FAILING, 'evt_example', { ...exampleEndpoint, disabledAt: null, disabledReason: null, failingSince }, 5, EXAMPLE_TIME),
    ),
    endpointEventType(
      ENDPOINT_RECOVERED,
      'An endpoint that was reported failing answered 2xx again.',
      endpointEventPayload(
        ENDPOINT_RECOVERED,
        'evt_example',
        { ...exampleEndpoint, disabledAt: null, disabledReason: null, failingSince: null },
        0,
        EXAMPLE_TIME,
      ),
    ),
    endpointEventType(
      ENDPOINT_DISABLED,
      'An endpoint was disabled automatically: it answered 410 Gone, or every attempt failed for ORDERCAST_WEBHOOK_DISABLE_AFTER.',
      endpointEventPayload(
        ENDPOINT_DISABLED,
        'evt_example',
        { ...exampleEndpoint, disabledAt: EXAMPLE_TIME, disabledReason: `every attempt failed since ${failingSince}`, failingSince },
        42,
        EXAMPLE_TIME,
      ),
    ),
    {
      name: DELIVERY_EXHAUSTED,
      description: "A delivery to one of the project's endpoints used up its retry schedule and was given up; `recover` or `redeliver` sends it again.",
      schema: payloadSchema(DELIVERY_EXHAUSTED, `${DELIVERY_EXHAUSTED} webhook`, {
        type: 'object',
        additionalProperties: false,
        properties: {
          object: { const: 'webhook_delivery' },
          id: { type: 'string' },
          endpointId: { type: 'string' },
          eventId: { type: 'string' },
          eventName: { type: 'string' },
          orderId: nullableString,
          attemptCount: { type: 'integer', minimum: 0 },
          lastStatusCode: { type: ['integer', 'null'] },
          lastError: nullableString,
        },
        required: ['object', 'id', 'endpointId', 'eventId', 'eventName', 'orderId', 'attemptCount', 'lastStatusCode', 'lastError'],
      }),
      example: deliveryExhaustedPayload(
        'evt_example',
        {
          id: 'msg_example',
          endpointId: 'we_example',
          eventId: 'evt_order_example',
          eventName: 'ORDER_COMPLETED',
          orderId: 'ord_example',
          attemptCount: 10,
          lastStatusCode: 500,
          lastError: 'HTTP 500',
        },
        EXAMPLE_TIME,
      ),
    },
    {
      name: TEST_EVENT_NAME,
      description: 'Sent by `POST /webhook-endpoints/{id}/test` to one endpoint, whatever its event filter. Names no real order.',
      schema: payloadSchema(TEST_EVENT_NAME, `${TEST_EVENT_NAME} webhook`, {
        type: 'object',
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          object: { const: 'order' },
          test: { const: true },
          endpointId: { type: 'string' },
          status: { const: 'TEST' },
          version: { const: 1 },
        },
        required: ['id', 'object', 'test', 'endpointId', 'status', 'version'],
      }),
      example: testPayload('evt_test_example', 'we_example', EXAMPLE_TIME),
    },
  ];
}

/** Every event type an endpoint of a project with this lifecycle can receive. */
export function eventCatalogue(lifecycle: Lifecycle): EventType[] {
  return [...lifecycleEventTypes(lifecycle), ...operationalEventTypes()];
}
