import { spawn } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { CLI } from '../helpers/webhook-server-process.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { eventually, startReceiver, webhookHeaders, type WebhookReceiver } from '../helpers/webhook-receiver.js';

describe('the events feed', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => server?.close());

  it('pages through a project’s events with the order snapshot, and long-polls for new ones', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const other = webhookApi(server, await server.createProject('onramp', 'other'));
    const start = await api.request('GET', '/api/v2/events?after=latest');
    expect(start.body).toMatchObject({ object: 'list', data: [] });
    const order = await api.createOrder();
    await other.createOrder();
    await api.transition(order.id, 'PROCESSING');
    const page = await api.request('GET', `/api/v2/events?after=${start.body.nextCursor}`);
    expect(page.body.data.map((e: any) => [e.eventName, e.data.id, e.data.version])).toEqual([
      ['ORDER_CREATED', order.id, 1],
      ['ORDER_PROCESSING', order.id, 2],
    ]);
    // Nothing new: the request waits, and returns as soon as an event is written.
    const started = Date.now();
    const waiting = api.request('GET', `/api/v2/events?after=${page.body.nextCursor}&waitForChange=10`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api.transition(order.id, 'COMPLETED');
    const woken = await waiting;
    expect(woken.body.data.map((e: any) => e.eventName)).toEqual(['ORDER_COMPLETED']);
    expect(Date.now() - started).toBeLessThan(5000);
    const bad = await api.request('GET', '/api/v2/events?after=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_cursor');
  });
});

describe('ordercast listen --forward-to', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it('forwards each new event signed with the secret it prints, one line per delivery', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const child = spawn(process.execPath, [CLI, 'listen', '--forward-to', receiver.url, '--api-url', server.baseUrl], {
      env: { ...process.env, ORDERCAST_SECRET_KEY: api.key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const secret = await eventually(() => /signing secret is (whsec_\S+)/.exec(out)?.[1], 15_000, 'listen to print its secret');
      const order = await api.createOrder();
      await api.transition(order.id, 'PROCESSING');
      const requests = await receiver.waitForCount(2);
      const verifier = new Webhook(secret);
      const bodies = requests.map((r) => verifier.verify(r.body, webhookHeaders(r)) as any);
      expect(bodies.map((b) => [b.eventName, b.data.id, b.data.status])).toEqual([
        ['ORDER_CREATED', order.id, 'AWAITING_PAYMENT_FROM_USER'],
        ['ORDER_PROCESSING', order.id, 'PROCESSING'],
      ]);
      const lines = await eventually(() => {
        const l = out.split('\n').filter((line) => line.includes(order.id));
        return l.length >= 2 ? l : undefined;
      });
      expect(lines[0]).toMatch(new RegExp(`ORDER_CREATED  ${order.id}  v1  -> 200  \\d+ ms`));
      expect(lines[1]).toMatch(/ORDER_PROCESSING .* -> 200 /);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('says clearly when the key is missing', async () => {
    const child = spawn(process.execPath, [CLI, 'listen', '--forward-to', receiver.url, '--api-url', server.baseUrl], {
      env: { ...process.env, ORDERCAST_SECRET_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('error (unauthorized): ordercast listen needs the project secret key');
  });
});
