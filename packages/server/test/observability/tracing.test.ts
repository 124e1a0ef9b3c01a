import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLP_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { createPostgresSchema, databaseUrlForTests, type TestDialect } from '../helpers/databases.js';
import { api, cli, freePort } from '../helpers/processes.js';
import { connectSocket, emitWithAck, waitFor } from '../helpers/realtime.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const WEBHOOKS = { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms', ORDERCAST_RATE_LIMIT: '0' };

/** The caller's own trace, as its tracing library would send it. */
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

async function post(baseUrl: string, key: string, urlPath: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}${urlPath}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const one = (spans: ReceivedSpan[], what: string) => {
  expect(spans, what).toHaveLength(1);
  return spans[0]!;
};

/** Both encodings on SQLite; the PostgreSQL append (its own statements) with one of them. */
const VARIANTS: Array<[TestDialect, 'http/protobuf' | 'http/json']> = [
  ['sqlite', 'http/protobuf'],
  ['sqlite', 'http/json'],
  ...(databaseUrlForTests() ? [['postgres', 'http/protobuf'] as [TestDialect, 'http/protobuf']] : []),
];

describe.each(VARIANTS)('traces over OTLP (%s, %s)', (dialect, protocol) => {
  let dataDir: string;
  let collector: OtlpReceiver;
  let hooks: WebhookReceiver;
  let server: ServerProcess;
  let socket: Socket | undefined;
  let project: { id: string; secretKey: string };
  let schema: { url: string; drop(): Promise<void> } | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-tracing-'));
    schema = dialect === 'postgres' ? await createPostgresSchema() : undefined;
    const where = ['--data-dir', dataDir, ...(schema ? ['--database-url', schema.url] : [])];
    project = await cli(['projects', 'create', '--name', 'Traced', '--lifecycle', 'onramp', '--json', ...where]);
    collector = await startOtlpReceiver();
    hooks = await startReceiver();
    server = await startServerProcess(['--no-demo', ...where], {
      ...WEBHOOKS,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: 'ordercast-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=orders%20team',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      // Export soon after each span ends, so the test waits on spans, not on the batch timer.
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  });
  afterAll(async () => {
    socket?.close();
    await server?.stop();
    await hooks?.close();
    await collector?.close();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('follows one order from the requests that moved it to its webhook attempts and socket pushes', async () => {
    const { secretKey } = project;
    await api(server.baseUrl, secretKey, 'POST', '/api/v2/webhook-endpoints', { url: hooks.url });
    // The caller traces: the request joins its trace.
    const created = await post(
      server.baseUrl,
      secretKey,
      '/api/v2/orders',
      { status: 'AWAITING_PAYMENT_FROM_USER' },
      {
        traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
        tracestate: 'vendor=abc',
      },
    );
    expect(created.status).toBe(201);
    const orderId: string = created.body.id;
    socket = await connectSocket(server.baseUrl, { apiKey: secretKey });
    const updates: number[] = [];
    socket.on('order:update', (update: { version: number }) => updates.push(update.version));
    await emitWithAck(socket, 'subscribe:order', { orderId });
    // This caller does not trace: the request starts a trace of its own.
    const moved = await post(server.baseUrl, secretKey, `/api/v2/orders/${orderId}/status`, { status: 'PROCESSING' });
    expect(moved.status).toBe(200);
    await waitFor(() => updates.includes(2), 'the Socket.IO update of version 2');
    const webhooks = await hooks.waitForCount(2);

    const spans = await collector.waitFor(
      (all) =>
        all.filter((s) => s.kind === OTLP_KIND.client && s.name === 'POST').length >= 2 &&
        all.some((s) => s.name === 'publish order_update') &&
        all.filter((s) => s.name === 'order.append').length >= 2 &&
        all.some((s) => s.name === 'POST /api/v2/orders/:id/status'),
      'the spans of both writes and their deliveries',
    );
    const contentType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    expect(new Set(spans.map((s) => s.contentType))).toEqual(new Set([contentType]));
    expect(spans[0]!.resource).toMatchObject({ 'service.name': 'ordercast-under-test', 'deployment.environment.name': 'test', team: 'orders team' });

    // The requests: server spans, one trace each; the first continues the caller's trace.
    const createRequest = one(
      spans.filter((s) => s.name === 'POST /api/v2/orders'),
      'the create request',
    );
    expect(createRequest).toMatchObject({ kind: OTLP_KIND.server, traceId: CALLER_TRACE, parentSpanId: CALLER_SPAN });
    expect(createRequest.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/v2/orders', 'http.response.status_code': 201 });
    const moveRequest = one(
      spans.filter((s) => s.name === 'POST /api/v2/orders/:id/status'),
      'the move request',
    );
    expect(moveRequest).toMatchObject({ kind: OTLP_KIND.server, parentSpanId: '' });
    expect(moveRequest.traceId).not.toBe(CALLER_TRACE);
    expect(moveRequest.attributes).toMatchObject({ 'url.path': `/api/v2/orders/${orderId}/status`, 'http.response.status_code': 200 });
    for (const request of [createRequest, moveRequest]) {
      const trace = spans.filter((s) => s.traceId === request.traceId);
      expect(
        trace.filter((s) => s.kind === OTLP_KIND.server),
        'one request per trace',
      ).toEqual([request]);
    }

    // The decision and append: children of their request, with the order id, version and event name.
    const appends = spans.filter((s) => s.name === 'order.append');
    const createAppend = one(
      appends.filter((s) => s.parentSpanId === createRequest.spanId),
      'the create append',
    );
    expect(createAppend.traceId).toBe(CALLER_TRACE);
    expect(createAppend.attributes).toMatchObject({
      'ordercast.order.id': orderId,
      'ordercast.order.version': 1,
      'ordercast.event.name': 'ORDER_CREATED',
      'ordercast.append.outcome': 'appended',
    });
    const moveAppend = one(
      appends.filter((s) => s.parentSpanId === moveRequest.spanId),
      'the move append',
    );
    expect(moveAppend.attributes).toMatchObject({ 'ordercast.order.id': orderId, 'ordercast.order.version': 2, 'ordercast.event.name': 'ORDER_PROCESSING' });
    const linksTo = (span: ReceivedSpan, write: ReceivedSpan) => span.links.some((l) => l.traceId === write.traceId && l.spanId === write.spanId);

    // The follower's reads link to the writes they read.
    const reads = spans.filter((s) => s.name === 'receive order_events');
    expect(reads.every((s) => s.kind === OTLP_KIND.consumer && s.parentSpanId === '')).toBe(true);
    expect(reads.some((s) => linksTo(s, createAppend))).toBe(true);
    expect(reads.some((s) => linksTo(s, moveAppend))).toBe(true);

    // Each webhook attempt: an HTTP client span of a trace of its own, linked to its write, its traceparent on the webhook.
    const attempts = spans.filter((s) => s.kind === OTLP_KIND.client && s.name === 'POST');
    expect(attempts).toHaveLength(2);
    for (const [write, eventName] of [
      [createAppend, 'ORDER_CREATED'],
      [moveAppend, 'ORDER_PROCESSING'],
    ] as const) {
      const attempt = one(
        attempts.filter((s) => linksTo(s, write)),
        `the attempt of ${eventName}`,
      );
      expect(attempt.parentSpanId).toBe('');
      expect(attempt.traceId).not.toBe(write.traceId);
      expect(attempt.attributes).toMatchObject({
        'http.request.method': 'POST',
        'url.full': hooks.url,
        'http.response.status_code': 200,
        'ordercast.attempt.outcome': 'success',
        'ordercast.event.name': eventName,
        'ordercast.order.id': orderId,
      });
      const webhook = webhooks.find((w) => JSON.parse(w.body).eventName === eventName);
      expect(webhook?.headers.traceparent).toBe(`00-${attempt.traceId}-${attempt.spanId}-01`);
    }

    // The push to the Socket.IO subscriber: one push batch, linked to the move's write.
    const push = one(
      spans.filter((s) => s.name === 'publish order_update' && linksTo(s, moveAppend)),
      'the push of version 2',
    );
    expect(push).toMatchObject({ kind: OTLP_KIND.producer, parentSpanId: '' });
    expect(push.attributes).toMatchObject({ 'messaging.batch.message_count': 1, 'ordercast.order.version': 2, 'ordercast.order.id': orderId });
  });

  it("links a batch's deliveries to the batch's append", async () => {
    const res = await post(server.baseUrl, project.secretKey, '/api/v2/orders/batch', {
      items: [
        { kind: 'create', body: { status: 'AWAITING_PAYMENT_FROM_USER', externalId: `batch-${protocol}-1` } },
        { kind: 'create', body: { status: 'PROCESSING', externalId: `batch-${protocol}-2` } },
      ],
    });
    expect(res.status).toBe(200);
    const ids = res.body.data.map((item: { body: { id: string } }) => item.body.id);
    const attemptsOf = (all: ReceivedSpan[]) => all.filter((s) => s.kind === OTLP_KIND.client && ids.includes(s.attributes['ordercast.order.id']));
    const spans = await collector.waitFor((all) => attemptsOf(all).length === 2, 'the attempts of the batch');
    const request = one(
      spans.filter((s) => s.name === 'POST /api/v2/orders/batch'),
      'the batch request',
    );
    const append = one(
      spans.filter((s) => s.name === 'order.append_batch' && s.parentSpanId === request.spanId),
      'the batch append',
    );
    expect(append.attributes).toMatchObject({ 'messaging.batch.message_count': 2, 'ordercast.append.appended': 2 });
    for (const attempt of attemptsOf(spans)) expect(attempt.links).toContainEqual({ traceId: append.traceId, spanId: append.spanId });
  });

  it('ignores a malformed or oversized traceparent and tracestate: the request succeeds and starts its own trace', async () => {
    const bad: Array<Record<string, string>> = [
      { traceparent: 'not-a-traceparent' },
      { traceparent: `00-${'0'.repeat(32)}-${CALLER_SPAN}-01` },
      { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01${'x'.repeat(5000)}` },
      { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: `k=${'v'.repeat(8000)}` },
      { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: '=,,===,bad key=1' },
    ];
    const ids: string[] = [];
    for (const headers of bad) {
      const created = await post(server.baseUrl, project.secretKey, '/api/v2/orders', { status: 'AWAITING_PAYMENT_FROM_USER' }, headers);
      expect(created.status, JSON.stringify(headers).slice(0, 80)).toBe(201);
      ids.push(created.body.id);
    }
    const appendsOf = (all: ReceivedSpan[]) => all.filter((s) => s.name === 'order.append' && ids.includes(s.attributes['ordercast.order.id'] as string));
    const spans = await collector.waitFor((all) => appendsOf(all).length === bad.length, 'the appends of the five orders');
    const requests = appendsOf(spans).map((append) => spans.find((s) => s.spanId === append.parentSpanId));
    // The two with a valid traceparent and a bad tracestate keep the caller's trace; the rest start their own.
    expect(requests.map((r) => r?.traceId === CALLER_TRACE)).toEqual([false, false, false, true, true]);
    expect(requests.every((r) => r?.kind === OTLP_KIND.server)).toBe(true);
  });
});

describe('tracing when the collector is unreachable', () => {
  it('never refuses a write: spans are dropped and counted, with one warning', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-tracing-down-'));
    const project = await cli(['projects', 'create', '--name', 'Down', '--lifecycle', 'onramp', '--json', '--data-dir', dataDir]);
    const server = await startServerProcess(['--no-demo', '--data-dir', dataDir], {
      ORDERCAST_RATE_LIMIT: '0',
      // A port nothing listens on.
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      OTEL_BSP_SCHEDULE_DELAY: '20',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4',
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    });
    try {
      for (let i = 0; i < 20; i++) {
        const created = await post(server.baseUrl, project.secretKey, '/api/v2/orders', { status: 'AWAITING_PAYMENT_FROM_USER' });
        expect(created.status).toBe(201);
      }
      const dropped = async () => {
        const text = await (await fetch(server.metricsUrl!)).text();
        return Number(/^ordercast_trace_spans_dropped_total\{reason="export_failed"\} (\d+)/m.exec(text)?.[1] ?? 0);
      };
      // Several failed exports (batches of four spans), yet one warning: at most one a minute.
      await waitFor(async () => (await dropped()) >= 12, 'spans counted as dropped', 30_000);
      const warnings = server
        .output()
        .split('\n')
        .filter((line) => line.includes('tracing: the collector did not take'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, reason: 'export_failed' });
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('OTEL_* settings at start-up', () => {
  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL/],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', /OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/xml', /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/],
    ['OTEL_TRACES_SAMPLER', 'sometimes', /OTEL_TRACES_SAMPLER must be one of always_on/],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5', /OTEL_TRACES_SAMPLER_ARG must be a sampling ratio from 0 to 1/],
    ['OTEL_RESOURCE_ATTRIBUTES', 'team', /OTEL_RESOURCE_ATTRIBUTES must be a list of key=value pairs/],
    ['OTEL_SDK_DISABLED', 'yes', /OTEL_SDK_DISABLED must be true or false/],
  ])('%s=%s stops the start with a message naming the variable', async (name, value, message) => {
    const refused = startServerProcess(['--no-demo', '--data-dir', os.tmpdir()], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', [name]: value });
    await expect(refused).rejects.toThrow(message);
  });

  it('without OTEL_* there is no tracing: webhooks carry no traceparent', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-tracing-off-'));
    const hooks = await startReceiver();
    const project = await cli(['projects', 'create', '--name', 'Off', '--lifecycle', 'onramp', '--json', '--data-dir', dataDir]);
    const server = await startServerProcess(['--no-demo', '--data-dir', dataDir], WEBHOOKS);
    try {
      await api(server.baseUrl, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url: hooks.url });
      const created = await post(
        server.baseUrl,
        project.secretKey,
        '/api/v2/orders',
        { status: 'AWAITING_PAYMENT_FROM_USER' },
        {
          traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
        },
      );
      expect(created.status).toBe(201);
      const [webhook] = await hooks.waitForCount(1);
      expect(webhook!.headers.traceparent).toBeUndefined();
      const text = await (await fetch(server.metricsUrl!)).text();
      expect(text).toMatch(/^ordercast_trace_spans_exported_total 0$/m);
    } finally {
      await server.stop();
      await hooks.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
