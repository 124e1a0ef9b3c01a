import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { OrderTimingSweeper } from '../../src/services/order-timing-sweeper.js';
import { testDialects } from '../helpers/databases.js';
import { webhookFixtures } from '../helpers/webhook-fixtures.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { eventually, webhookHeaders, type ReceivedRequest } from '../helpers/webhook-receiver.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** A strict 2020-12 validator with formats (date-time) checked, as a receiver would use. */
function validator(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}

interface EventType {
  name: string;
  description: string;
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
}

const OPERATIONAL = ['endpoint.failing', 'endpoint.recovered', 'endpoint.disabled', 'delivery.exhausted'];

describe.each(testDialects)('event catalogue (%s)', (dialect) => {
  const fixtures = webhookFixtures(dialect, {
    ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
    ORDERCAST_WEBHOOK_POLL_INTERVAL: '50ms',
    ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,50ms,50ms',
    ORDERCAST_WEBHOOK_RETRY_JITTER: '0',
    ORDERCAST_WEBHOOK_FAILING_AFTER: '2',
  });
  const { receiver } = fixtures;

  it('lists every event type with a 2020-12 schema and an example valid against it; needs a secret key', async () => {
    const project = await fixtures.server.createProject('onramp');
    const response = await fixtures.server.request('GET', '/api/v2/event-types', { key: project.secretKey });
    expect(response.status).toBe(200);
    expect(response.body.object).toBe('list');
    const types = response.body.data as EventType[];
    const names = types.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'ORDER_CREATED',
        'ORDER_PAYMENT_DONE_MARKED_BY_USER',
        'ORDER_PROCESSING',
        'ORDER_PENDING_DELIVERY',
        'ORDER_COMPLETED',
        'ORDER_FAILED',
        'ORDER_CANCELLED',
        'WEBHOOK_TEST',
        ...OPERATIONAL,
      ]),
    );
    // Entered only at creation: no order ever emits it.
    expect(names).not.toContain('ORDER_AWAITING_PAYMENT_FROM_USER');
    const ajv = validator();
    for (const type of types) {
      expect(type.schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(type.description.length).toBeGreaterThan(10);
      const validate = ajv.compile(type.schema);
      expect(validate(type.example), `${type.name} example: ${ajv.errorsText(validate.errors)}`).toBe(true);
      // The schema is not vacuous: another type's body does not pass it.
      const other = types.find((t) => t.name !== type.name)!;
      expect(validate(other.example)).toBe(false);
    }

    // Another lifecycle, other names.
    const store = await fixtures.server.createProject('store');
    const storeTypes = (await fixtures.server.request('GET', '/api/v2/event-types', { key: store.secretKey })).body.data as EventType[];
    expect(storeTypes.map((t) => t.name)).toEqual(expect.arrayContaining(['order_created', 'order_paid', 'order_done', 'order_canceled', ...OPERATIONAL]));

    // A user token and a publishable key are refused with their own code.
    const token = (await fixtures.server.request('POST', '/api/v2/tokens', { key: project.secretKey, body: { userExternalId: 'u1' } })).body.token;
    for (const key of [token, project.publishableKey]) {
      const refused = await fixtures.server.request('GET', '/api/v2/event-types', { key });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('secret_key_required');
    }
    expect((await fixtures.server.request('GET', '/api/v2/event-types')).status).toBe(401);
  });

  it('/openapi.json describes the same payloads in its webhooks section', async () => {
    const project = await fixtures.server.createProject('onramp');
    const types = (await fixtures.server.request('GET', '/api/v2/event-types', { key: project.secretKey })).body.data as EventType[];
    const openapi = (await fixtures.server.request('GET', '/openapi.json')).body;
    expect(openapi.openapi).toBe('3.1.0');
    for (const type of types) {
      const operation = openapi.webhooks?.[type.name]?.post;
      expect(operation, type.name).toBeDefined();
      const { $schema: _dialect, ...schema } = type.schema;
      expect(operation.requestBody.content['application/json'].schema).toEqual(schema);
      expect(operation.requestBody.content['application/json'].example).toEqual(type.example);
    }
    // The store preset's names are there too.
    expect(openapi.webhooks.order_paid).toBeDefined();
  });

  it('every payload the fixtures.server really sends, of every type, validates against its schema and is signed', async () => {
    const api = webhookApi(fixtures.server, await fixtures.server.createProject('onramp'));
    const types = (await api.request('GET', '/api/v2/event-types')).body.data as EventType[];
    const ajv = validator();
    const validators = new Map(types.map((t) => [t.name, ajv.compile(t.schema)]));

    // Hears everything the project sends: "*" does not cover the operational events that can come one per failure.
    const all = await receiver();
    const allEndpoint = await api.createEndpoint(all.url, { enabledEvents: types.map((t) => t.name).filter((name) => name !== 'WEBHOOK_TEST') });
    // One that takes "*": order events and endpoint.disabled, but none of the others.
    const star = await receiver();
    await api.createEndpoint(star.url);
    // A receiver that fails, then recovers, then is gone: the operational events.
    let mode: 'fail' | 'ok' | 'gone' = 'fail';
    const flaky = await receiver(() => ({ status: mode === 'fail' ? 500 : mode === 'gone' ? 410 : 200 }));
    const flakyEndpoint = await api.createEndpoint(flaky.url, { enabledEvents: ['ORDER_CREATED'] });

    // Every lifecycle event, by real orders.
    const a = await api.createOrder({ status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'u1', metadata: { cart: 'c1' } });
    for (const status of ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) await api.transition(a.id, status);
    const b = await api.createOrder({ status: 'PROCESSING', externalId: 'ext-b', amount: '10.50', currency: 'EUR' });
    await api.transition(b.id, 'FAILED');
    const c = await api.createOrder();
    await api.transition(c.id, 'CANCELLED');
    // order.stuck: an order left waiting past the preset's 30 minutes, by a sweeper whose clock is ahead.
    const late = (await api.createOrder({ status: 'AWAITING_PAYMENT_FROM_USER' })) as { id: string; expectedBy: string };
    const ahead = { now: () => Date.parse(late.expectedBy) + 1 };
    expect(await new OrderTimingSweeper(fixtures.server.app.store, fixtures.server.app.orders, { intervalMs: 0, clock: ahead }).sweep()).toBe(1);
    await api.sendTest(allEndpoint.id);

    // The flaky endpoint's three ORDER_CREATED deliveries fail (3 attempts each): failing, then exhausted.
    const opsSeen = (name: string, count = 1) => all.requests.filter((r) => JSON.parse(r.body).eventName === name).length >= count;
    // All three given up before the receiver changes its mind.
    await all.waitFor(() => opsSeen('endpoint.failing') && opsSeen('delivery.exhausted', 3), 15_000, 'endpoint.failing and 3 delivery.exhausted');
    mode = 'ok';
    await api.sendTest(flakyEndpoint.id);
    await all.waitFor(() => opsSeen('endpoint.recovered'), 15_000, 'endpoint.recovered');
    mode = 'gone';
    await api.sendTest(flakyEndpoint.id);
    await all.waitFor(() => opsSeen('endpoint.disabled'), 15_000, 'endpoint.disabled');

    // And every type's example on demand.
    for (const type of types) {
      const sent = await api.request('POST', `/api/v2/webhook-endpoints/${allEndpoint.id}/send-example`, { eventType: type.name });
      expect(sent.status, sent.text).toBe(202);
      expect(sent.body).toMatchObject({ object: 'webhook_delivery', eventName: type.name, endpointId: allEndpoint.id });
    }
    await all.waitFor((requests) => requests.filter((r) => JSON.parse(r.body).test === true).length >= types.length, 15_000, 'every example');

    // Examples of order events name this project.
    const example = all.requests.map((r) => JSON.parse(r.body)).find((p) => p.eventName === 'ORDER_COMPLETED' && p.test === true);
    expect(example.data).toMatchObject({ object: 'order', status: 'COMPLETED', projectId: api.project.project.id });
    expect(example.id).toMatch(/^evt_test_/);
    const starNames = new Set(star.requests.map((r) => JSON.parse(r.body).eventName));
    expect(starNames.has('endpoint.disabled')).toBe(true);
    for (const name of ['endpoint.failing', 'endpoint.recovered', 'delivery.exhausted']) expect(starNames.has(name), name).toBe(false);
    // None of the operational events went to the endpoint they are about.
    expect(flaky.requests.every((r) => JSON.parse(r.body).eventName === 'ORDER_CREATED' || JSON.parse(r.body).eventName === 'WEBHOOK_TEST')).toBe(true);

    const verifier = new Webhook(allEndpoint.secret);
    const seen = new Map<string, { real: number; examples: number }>();
    for (const request of all.requests as ReceivedRequest[]) {
      const body = verifier.verify(request.body, webhookHeaders(request)) as { eventName: string; test?: boolean };
      const validate = validators.get(body.eventName);
      expect(validate, `no catalogue entry for ${body.eventName}`).toBeDefined();
      expect(validate!(body), `${body.eventName}: ${ajv.errorsText(validate!.errors)}\n${request.body}`).toBe(true);
      const count = seen.get(body.eventName) ?? { real: 0, examples: 0 };
      if (body.test === true) count.examples++;
      else count.real++;
      seen.set(body.eventName, count);
    }
    for (const type of types) {
      expect(seen.get(type.name)?.examples, `${type.name} example`).toBeGreaterThanOrEqual(1);
      // Every type was also sent for real (the test event is the test event).
      if (type.name !== 'WEBHOOK_TEST') expect(seen.get(type.name)?.real, `${type.name} sent for real`).toBeGreaterThanOrEqual(1);
    }
    const failing = all.requests.map((r) => JSON.parse(r.body)).find((p) => p.eventName === 'endpoint.failing' && p.test !== true);
    expect(failing.data).toMatchObject({ object: 'webhook_endpoint', id: flakyEndpoint.id, state: 'failing' });
    // Outcomes are written in batches: the run may pass 2 by several at once; it is announced once.
    expect(failing.data.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(all.requests.filter((r) => JSON.parse(r.body).eventName === 'endpoint.failing' && JSON.parse(r.body).test !== true)).toHaveLength(1);
    const exhausted = all.requests.map((r) => JSON.parse(r.body)).find((p) => p.eventName === 'delivery.exhausted' && p.test !== true);
    expect(exhausted.data).toMatchObject({
      object: 'webhook_delivery',
      endpointId: flakyEndpoint.id,
      eventName: 'ORDER_CREATED',
      attemptCount: 3,
      lastStatusCode: 500,
    });
    const disabled = all.requests.map((r) => JSON.parse(r.body)).find((p) => p.eventName === 'endpoint.disabled' && p.test !== true);
    expect(disabled.data).toMatchObject({ id: flakyEndpoint.id, state: 'disabled', disabled: true, disabledReason: 'the endpoint answered 410 Gone' });
    await eventually(async () => ((await api.endpoint(flakyEndpoint.id)).disabled ? true : undefined));
  });

  it("send-example refuses an unknown event type, another project's endpoint and a disabled one, each with its code", async () => {
    const api = webhookApi(fixtures.server, await fixtures.server.createProject('onramp'));
    const endpoint = await api.createEndpoint('http://127.0.0.1:9/hook');
    const unknown = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/send-example`, { eventType: 'ORDER_SHIPPED_TO_MARS' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_event_type');
    expect(unknown.body.error.details.eventTypes).toContain('ORDER_COMPLETED');
    const notString = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/send-example`, { eventType: 42 });
    expect(notString.status).toBe(422);
    expect(notString.body.error.code).toBe('unknown_event_type');
    // The store lifecycle's names are not this project's.
    const otherLifecycle = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/send-example`, { eventType: 'order_paid' });
    expect(otherLifecycle.body.error.code).toBe('unknown_event_type');
    const missing = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/send-example`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_failed');

    const other = webhookApi(fixtures.server, await fixtures.server.createProject('onramp'));
    const foreign = await other.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/send-example`, { eventType: 'ORDER_COMPLETED' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('webhook_endpoint_not_found');

    await api.request('PATCH', `/api/v2/webhook-endpoints/${endpoint.id}`, { disabled: true });
    const disabled = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/send-example`, { eventType: 'ORDER_COMPLETED' });
    expect(disabled.status).toBe(409);
    expect(disabled.body.error.code).toBe('webhook_endpoint_disabled');
  });
});
