import { Centrifuge } from 'centrifuge';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { connectSocket, newCentrifuge, userToken, waitFor } from './helpers/realtime.js';
import { runCli } from './helpers/server-process.js';
import { holdStream, rawStream } from './helpers/sse.js';
import { startTestServer, type ApiResponse, type TestServer } from './helpers/test-server.js';

function expectQuotaRefusal(response: ApiResponse, quota: string, limit: number): void {
  expect(response.status, response.text).toBe(429);
  expect(response.body.error.code).toBe('quota_exceeded');
  expect(response.body.error.details).toMatchObject({ quota, limit });
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(response.body.error.details.retryAfterSeconds).toBe(retryAfter);
}

/** Orders of the project, counted through the API: what was acknowledged is there, and nothing else. */
async function countOrders(server: TestServer, key: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await server.request('GET', `/api/v2/orders?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key });
    count += page.body.data.length;
    cursor = page.body.nextCursor ?? undefined;
  } while (cursor);
  return count;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(latencies: number[]): string {
  if (latencies.length === 0) return 'n=0';
  const sorted = [...latencies].sort((a, b) => a - b);
  return `n=${sorted.length} p50=${percentile(sorted, 50).toFixed(1)} ms p99=${percentile(sorted, 99).toFixed(1)} ms`;
}

async function metricsText(server: TestServer): Promise<string> {
  const response = await fetch(server.metricsUrl);
  return response.text();
}

function metricValue(text: string, name: string, project: string, quota: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`project="${project}"`) && l.includes(`quota="${quota}"`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe.each(testDialects)('per-project quotas on %s', (dialect) => {
  let server: TestServer;
  const open: Array<() => void> = [];
  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterEach(() => {
    for (const close of open.splice(0)) close();
  });
  afterAll(async () => server?.close());

  const setQuotas = (project: CreatedProject, change: Record<string, number | null>) => server.app.projectQuotas.update(project.project.id, change);
  const create = (project: CreatedProject, body: Record<string, unknown> = {}) => server.request('POST', '/api/v2/orders', { key: project.secretKey, body });

  it('writes_per_second: past the quota a write is 429 quota_exceeded with Retry-After, and is not written; every acknowledged write is', async () => {
    const project = await server.createProject('store');
    await setQuotas(project, { writes_per_second: 5 });
    const answers: ApiResponse[] = [];
    for (let i = 0; i < 20; i++) answers.push(await create(project, { externalId: `w-${i}` }));
    const acknowledged = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(acknowledged.length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) expectQuotaRefusal(answer, 'writes_per_second', 5);
    expect(await countOrders(server, project.secretKey)).toBe(acknowledged.length);

    // A transition counts too (a refused transition, 409, took its write as well: the check comes before the log decides).
    const fresh = await server.createProject('store');
    await setQuotas(fresh, { writes_per_second: 5 });
    const orderId = (await create(fresh)).body.id as string;
    const moves: ApiResponse[] = [];
    for (let i = 0; i < 15; i++)
      moves.push(await server.request('POST', `/api/v2/orders/${orderId}/status`, { key: fresh.secretKey, body: { status: 'paid' } }));
    expect(moves[0]!.status).toBe(200);
    expect(moves.some((m) => m.status === 429)).toBe(true);
    for (const move of moves.filter((m) => m.status === 429)) expectQuotaRefusal(move, 'writes_per_second', 5);
  });

  it('writes_per_second: a batch counts its items; refused whole with nothing written, admitted whole once the bucket is full', async () => {
    const project = await server.createProject('store');
    await setQuotas(project, { writes_per_second: 5 });
    const batch = (n: number, prefix: string) =>
      server.request('POST', '/api/v2/orders/batch', {
        key: project.secretKey,
        body: { items: Array.from({ length: n }, (_, i) => ({ kind: 'create', body: { externalId: `${prefix}-${i}` } })) },
      });
    // Drain the bucket, then a batch of 4 does not fit.
    while ((await create(project)).status === 201);
    const refused = await batch(4, 'early');
    expectQuotaRefusal(refused, 'writes_per_second', 5);
    expect(refused.body.error.details.requested).toBe(4);
    const before = await countOrders(server, project.secretKey);
    // A batch larger than one second's worth goes through whole once the bucket is full (no batch size is refused for ever)...
    let whole: ApiResponse | undefined;
    await waitFor(async () => (whole = await batch(12, `big-${Date.now()}`)).status === 200, 'the batch of 12 to be admitted', 10_000);
    expect(whole!.body.data.map((item: { status: number }) => item.status)).toEqual(Array(12).fill(201));
    expect(await countOrders(server, project.secretKey)).toBe(before + 12);
    // ...and leaves the project in debt: the next write waits.
    expectQuotaRefusal(await create(project), 'writes_per_second', 5);
  });

  it('metadata_bytes: metadata over the quota is 429 quota_exceeded naming its size; a batch item over it fails alone', async () => {
    const project = await server.createProject('store');
    await setQuotas(project, { metadata_bytes: 100 });
    const big = { note: 'x'.repeat(120) };
    const refused = await create(project, { metadata: big });
    expectQuotaRefusal(refused, 'metadata_bytes', 100);
    expect(refused.body.error.details.bytes).toBe(Buffer.byteLength(JSON.stringify(big)));
    expect((await create(project, { metadata: { note: 'small' } })).status).toBe(201);
    const batch = await server.request('POST', '/api/v2/orders/batch', {
      key: project.secretKey,
      body: {
        items: [
          { kind: 'create', body: { metadata: { a: 1 } } },
          { kind: 'create', body: { metadata: big } },
          { kind: 'create', body: {} },
        ],
      },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.data.map((item: { status: number }) => item.status)).toEqual([201, 429, 201]);
    expect(batch.body.data[1].body.error).toMatchObject({ code: 'quota_exceeded', details: { quota: 'metadata_bytes', limit: 100 } });
    expect(await countOrders(server, project.secretKey)).toBe(3);
    // Another project keeps the server's default.
    const other = await server.createProject('store');
    expect((await create(other, { metadata: big })).status).toBe(201);
  });

  it('webhook_endpoints: past the quota a new endpoint is 429 quota_exceeded; deleting one makes room', async () => {
    const project = await server.createProject('store');
    await setQuotas(project, { webhook_endpoints: 2 });
    const createEndpoint = (i: number) =>
      server.request('POST', '/api/v2/webhook-endpoints', { key: project.secretKey, body: { url: `http://127.0.0.1:9/hook-${i}`, disabled: true } });
    const first = await createEndpoint(1);
    expect(first.status).toBe(201);
    expect((await createEndpoint(2)).status).toBe(201);
    const refused = await createEndpoint(3);
    expectQuotaRefusal(refused, 'webhook_endpoints', 2);
    expect(refused.body.error.details.endpoints).toBe(2);
    expect((await server.request('GET', '/api/v2/webhook-endpoints', { key: project.secretKey })).body.data).toHaveLength(2);
    expect((await server.request('DELETE', `/api/v2/webhook-endpoints/${first.body.id}`, { key: project.secretKey })).status).toBeLessThan(300);
    expect((await createEndpoint(4)).status).toBe(201);
  });

  it('open_connections: Socket.IO, Centrifuge (WebSocket and HTTP streaming) and SSE share the count; past it each is refused the way its protocol says so', async () => {
    const project = await server.createProject('store');
    const projectId = project.project.id;
    await setQuotas(project, { open_connections: 4 });
    const token = await userToken(server, project.secretKey, 'quota-user');
    // centrifuge-js over its HTTP-streaming transport (the WebSocket fallback).
    const httpStreaming = () =>
      new Centrifuge([{ transport: 'http_stream', endpoint: `${server.baseUrl}/connection/http_stream` }], {
        data: { user_external_id: 'quota-user', auth: token, project_id: projectId },
        emulationEndpoint: `${server.baseUrl}/emulation`,
        minReconnectDelay: 50,
        maxReconnectDelay: 300,
      });
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    open.push(() => socket.close());
    const centrifuge = newCentrifuge(server, { user_external_id: 'quota-user', auth: token, project_id: projectId });
    open.push(() => centrifuge.disconnect());
    await new Promise<void>((resolve) => {
      centrifuge.once('connected', () => resolve());
      centrifuge.connect();
    });
    const stream = await holdStream(`${server.baseUrl}/api/v2/stream`, { authorization: `Bearer ${project.secretKey}` });
    open.push(() => stream.close());
    expect(stream.status).toBe(200);
    const streaming = httpStreaming();
    open.push(() => streaming.disconnect());
    await new Promise<void>((resolve) => {
      streaming.once('connected', () => resolve());
      streaming.connect();
    });

    // Socket.IO: connect_error with the refusal's details.
    const socketError = await connectSocket(server.baseUrl, { apiKey: project.secretKey }).then(
      (s: Socket) => {
        s.close();
        throw new Error('a fourth connection was accepted');
      },
      (error: Error & { data?: any }) => error,
    );
    expect(socketError.data).toMatchObject({ code: 'quota_exceeded', details: { quota: 'open_connections', limit: 4, open: 4 } });
    // SSE: 429 before the stream starts.
    const refusedStream = await rawStream(`${server.baseUrl}/api/v2/stream?token=${encodeURIComponent(token)}`);
    expect(refusedStream.status).toBe(429);
    expect(refusedStream.body.error).toMatchObject({ code: 'quota_exceeded', details: { quota: 'open_connections', limit: 4 } });
    expect(Number(refusedStream.headers['retry-after'])).toBe(refusedStream.body.error.details.retryAfterSeconds);
    // Centrifuge: the connect is answered with a temporary error 106, so the client backs off and tries again.
    const second: Centrifuge = newCentrifuge(server, { user_external_id: 'quota-user', auth: token, project_id: projectId });
    open.push(() => second.disconnect());
    const connectError = await new Promise<any>((resolve) => {
      second.once('error', (ctx) => resolve(ctx));
      second.connect();
    });
    expect(connectError.type).toBe('connect');
    expect(connectError.error).toMatchObject({ code: 106, temporary: true });
    expect(connectError.error.message).toContain('open_connections');
    // The same over HTTP streaming.
    const refusedStreaming = httpStreaming();
    open.push(() => refusedStreaming.disconnect());
    const streamingError = await new Promise<any>((resolve) => {
      refusedStreaming.once('error', (ctx) => resolve(ctx));
      refusedStreaming.connect();
    });
    expect(streamingError).toMatchObject({ type: 'connect', error: { code: 106, temporary: true } });
    refusedStreaming.disconnect();
    // The retrying client gets in once a slot frees.
    const connected = new Promise<void>((resolve) => second.once('connected', () => resolve()));
    socket.close();
    await connected;

    // Another project is not held back by this one's count.
    const other = await server.createProject('store');
    const otherSocket = await connectSocket(server.baseUrl, { apiKey: other.secretKey });
    open.push(() => otherSocket.close());

    for (const close of open.splice(0)) close();
    await waitFor(() => server.app.quotaEnforcer.connectionHolders === 0, 'every connection slot to be given back');
  });

  it('overrides set by the CLI take effect on the running server within the cache lifetime; GET /api/v2/project shows them', async () => {
    const project = await server.createProject('store');
    const shown = await server.request('GET', '/api/v2/project', { key: project.secretKey });
    expect(shown.body.quotas).toEqual(server.app.projectQuotas.defaults);
    const database = server.databaseUrl ? ['--database-url', server.databaseUrl] : ['--data-dir', server.dataDir];
    const set = runCli(['projects', 'quotas', '--project', project.project.id, '--writes-per-second', '1', '--json', ...database]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ projectId: project.project.id, overrides: { writes_per_second: 1 }, quotas: { writes_per_second: 1 } });
    const setAt = Date.now();
    let refusal: ApiResponse | undefined;
    await waitFor(async () => (refusal = await create(project)).status === 429, 'the new quota to apply', 10_000);
    expect(Date.now() - setAt).toBeLessThan(5_000 + 1_000);
    expectQuotaRefusal(refusal!, 'writes_per_second', 1);
    await waitFor(
      async () => (await server.request('GET', '/api/v2/project', { key: project.secretKey })).body.quotas.writes_per_second === 1,
      'GET /api/v2/project to show the override',
    );

    const bad = runCli(['projects', 'quotas', '--project', project.project.id, '--writes-per-second', '0', ...database]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_quota');
    const cleared = runCli(['projects', 'quotas', '--project', project.project.id, '--writes-per-second', 'default', '--json', ...database]);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ overrides: {}, quotas: { writes_per_second: server.app.projectQuotas.defaults.writes_per_second } });
  });

  it('a project whose quotas are cached is checked at once: its quotas and a connection slot come back as values, not promises', async () => {
    const project = await server.createProject('store');
    const id = project.project.id;
    // A write reads the project's quotas once; from then on the cache answers them.
    expect((await create(project)).status).toBe(201);
    const quotas = server.app.quotaEnforcer.quotasOf(id);
    expect(quotas).not.toBeInstanceOf(Promise);
    expect(quotas).toEqual(server.app.projectQuotas.defaults);
    const release = server.app.quotaEnforcer.openConnection(id);
    expect(release).toBeTypeOf('function');
    expect(server.app.quotaEnforcer.usage(id).openConnections).toBe(1);
    (release as () => void)();
    expect(server.app.quotaEnforcer.usage(id).openConnections).toBe(0);
  });

  it("one project at its writes quota does not slow another project's writes (latencies reported)", async () => {
    const limited = await server.createProject('store', 'At its quota');
    const unlimited = await server.createProject('store', 'Same load, default quota');
    const neighbour = await server.createProject('store', 'Neighbour');
    await setQuotas(limited, { writes_per_second: 20 });
    const timed = async (project: CreatedProject) => {
      const start = performance.now();
      const answer = await create(project);
      return { status: answer.status, ms: performance.now() - start };
    };
    /** The neighbour's 100 writes (two writers), while four writers keep `busy` writing as fast as they are answered. */
    const phase = async (busy: CreatedProject | undefined) => {
      const result = { neighbour: [] as number[], neighbourStatuses: [] as number[], busyAdmitted: [] as number[], busyRefused: [] as number[] };
      let done = false;
      const hammer = async (project: CreatedProject) => {
        while (!done) {
          const { status, ms } = await timed(project);
          (status === 201 ? result.busyAdmitted : result.busyRefused).push(ms);
        }
      };
      const neighbourWriter = async () => {
        for (let i = 0; i < 50; i++) {
          const { status, ms } = await timed(neighbour);
          result.neighbourStatuses.push(status);
          result.neighbour.push(ms);
        }
      };
      const hammers = busy ? [hammer(busy), hammer(busy), hammer(busy), hammer(busy)] : [];
      await Promise.all([neighbourWriter(), neighbourWriter()]);
      done = true;
      await Promise.all(hammers);
      return result;
    };
    const alone = await phase(undefined);
    const besideLimited = await phase(limited);
    const besideUnlimited = await phase(unlimited);
    console.log(
      [
        `[${dialect}] the other project's writes, alone: ${summary(alone.neighbour)}`,
        `[${dialect}] the other project's writes, beside a project held at its quota (20/s): ${summary(besideLimited.neighbour)}`,
        `[${dialect}]   that project's writes: admitted ${summary(besideLimited.busyAdmitted)}; refused ${summary(besideLimited.busyRefused)}`,
        `[${dialect}] the other project's writes, beside the same load under the default quota: ${summary(besideUnlimited.neighbour)}`,
        `[${dialect}]   that project's writes: admitted ${summary(besideUnlimited.busyAdmitted)}; refused ${summary(besideUnlimited.busyRefused)}`,
      ].join('\n'),
    );
    expect(besideLimited.busyRefused.length).toBeGreaterThan(0);
    expect(besideLimited.neighbourStatuses).toEqual(Array(100).fill(201));
    expect([...alone.neighbourStatuses, ...besideUnlimited.neighbourStatuses]).toEqual(Array(200).fill(201));
    expect(await countOrders(server, neighbour.secretKey)).toBe(300);
    expect(await countOrders(server, limited.secretKey)).toBe(besideLimited.busyAdmitted.length);
  });

  it("/metrics (on the metrics port only) shows each project's usage against its quota, and its refusals", async () => {
    const project = await server.createProject('store');
    const projectId = project.project.id;
    await setQuotas(project, { open_connections: 4, webhook_endpoints: 3 });
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    open.push(() => socket.close());
    expect(
      (await server.request('POST', '/api/v2/webhook-endpoints', { key: project.secretKey, body: { url: 'http://127.0.0.1:9/m', disabled: true } })).status,
    ).toBe(201);
    await setQuotas(project, { metadata_bytes: 10 });
    expect((await create(project, { metadata: { note: 'more than ten bytes' } })).status).toBe(429);
    const text = await metricsText(server);
    expect(metricValue(text, 'ordercast_project_quota_limit', projectId, 'open_connections')).toBe(4);
    expect(metricValue(text, 'ordercast_project_quota_limit', projectId, 'webhook_endpoints')).toBe(3);
    expect(metricValue(text, 'ordercast_project_quota_limit', projectId, 'metadata_bytes')).toBe(10);
    expect(metricValue(text, 'ordercast_project_quota_limit', projectId, 'writes_per_second')).toBe(server.app.projectQuotas.defaults.writes_per_second);
    expect(metricValue(text, 'ordercast_project_quota_usage', projectId, 'open_connections')).toBe(1);
    expect(metricValue(text, 'ordercast_project_quota_usage', projectId, 'webhook_endpoints')).toBe(1);
    expect(metricValue(text, 'ordercast_project_quota_refusals_total', projectId, 'metadata_bytes')).toBe(1);
    // Writes admitted in the last whole second: a steady writer shows up.
    await waitFor(async () => {
      await create(project);
      return (metricValue(await metricsText(server), 'ordercast_project_quota_usage', projectId, 'writes_per_second') ?? 0) > 0;
    }, 'the write rate to show');
    const onApiPort = await fetch(`${server.baseUrl}/metrics`);
    expect(onApiPort.status).toBe(404);
    expect(await onApiPort.text()).not.toContain('ordercast_project_quota');
  });
});

describe('server-wide quota defaults (ORDERCAST_QUOTA_*)', () => {
  it('are read from the environment, and a bad value stops the start naming the variable', () => {
    expect(loadConfig({}, {}).quotas).toEqual({ writes_per_second: 10_000, open_connections: 10_000, webhook_endpoints: 50, metadata_bytes: 16_384 });
    expect(loadConfig({}, { ORDERCAST_QUOTA_WRITES_PER_SECOND: '250', ORDERCAST_QUOTA_WEBHOOK_ENDPOINTS: '5' }).quotas).toMatchObject({
      writes_per_second: 250,
      webhook_endpoints: 5,
      open_connections: 10_000,
    });
    for (const [name, value] of [
      ['ORDERCAST_QUOTA_WRITES_PER_SECOND', '0'],
      ['ORDERCAST_QUOTA_OPEN_CONNECTIONS', '-1'],
      ['ORDERCAST_QUOTA_WEBHOOK_ENDPOINTS', '2.5'],
      ['ORDERCAST_QUOTA_METADATA_BYTES', '1000000'],
      ['ORDERCAST_QUOTA_WRITES_PER_SECOND', 'lots'],
    ]) {
      expect(() => loadConfig({}, { [name as string]: value as string })).toThrow(ConfigError);
      expect(() => loadConfig({}, { [name as string]: value as string })).toThrow(name as string);
    }
  });

  it('apply to every project without an override of its own', async () => {
    const server = await startTestServer('sqlite', { ORDERCAST_QUOTA_WRITES_PER_SECOND: '2' });
    try {
      const project = await server.createProject('store');
      const answers: number[] = [];
      for (let i = 0; i < 6; i++) answers.push((await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: {} })).status);
      expect(answers).toContain(429);
      expect((await server.request('GET', '/api/v2/project', { key: project.secretKey })).body.quotas.writes_per_second).toBe(2);
    } finally {
      await server.close();
    }
  });
});
