import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BadEndpoint, startBadEndpoint } from '../helpers/bad-endpoints.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { eventually, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A receiver that can hang or answer, and counts the requests it holds open at once. */
async function startTrackedReceiver() {
  let mode: 'hang' | 'ok' = 'hang';
  let open = 0;
  let maxOpen = 0;
  const received: Array<{ id: string; body: any }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      res.on('close', () => open--);
      received.push({ id: String(req.headers['webhook-id']), body: JSON.parse(Buffer.concat(chunks).toString()) });
      if (mode === 'ok') res.end('{}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    received,
    get open() {
      return open;
    },
    /** Starts counting the most requests held at once afresh. */
    resetMax() {
      maxOpen = open;
    },
    get maxOpen() {
      return maxOpen;
    },
    answer() {
      mode = 'ok';
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers 200 at once with its headers, then trickles the body one byte a second. */
async function startTrickler() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 1000);
      res.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each(testDialects)('fast failure of bad endpoints (%s)', (dialect) => {
  let server: TestServer;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    server = await startTestServer(dialect, {
      ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
      ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
      // 15 s in production; 2 s here, and the "slow" receiver answers after 1.5 s.
      ORDERCAST_WEBHOOK_TIMEOUT: '2s',
      ORDERCAST_WEBHOOK_CONNECT_TIMEOUT: '1s',
      ORDERCAST_WEBHOOK_FAILING_AFTER: '3',
      // A failed delivery waits a minute: longer than any wait below, so what arrives did not wait on the schedule.
      ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,60s,60s',
      ORDERCAST_WEBHOOK_RETRY_JITTER: '0',
      ORDERCAST_WEBHOOK_CONCURRENCY: '16',
    });
    cleanups.push(() => server.close());
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('fails each kind of bad endpoint fast, announces it failing, and keeps a healthy tenant flowing', async () => {
    const ops = await startReceiver();
    cleanups.push(() => ops.close());
    const healthyReceiver = await startReceiver();
    cleanups.push(() => healthyReceiver.close());
    const hanging = await startReceiver(() => ({ hang: true }));
    cleanups.push(() => hanging.close());
    const slow = await startReceiver(async () => {
      await sleep(1500);
      return { status: 200 };
    });
    cleanups.push(() => slow.close());
    const redirecting: WebhookReceiver = await startReceiver();
    redirecting.setHandler(() => ({ status: 302, headers: { location: redirecting.url } }));
    cleanups.push(() => redirecting.close());
    const silent: BadEndpoint = await startBadEndpoint('silent');
    cleanups.push(() => silent.close());
    const resetting: BadEndpoint = await startBadEndpoint('reset');
    cleanups.push(() => resetting.close());
    const trickler = await startTrickler();
    cleanups.push(() => trickler.close());

    const kinds = {
      hanging: hanging.url,
      silent: silent.url,
      trickle: trickler.url,
      slow: slow.url,
      redirect: redirecting.url,
      reset: resetting.url,
    };
    const tenants: Record<string, { api: ReturnType<typeof webhookApi>; endpointId: string }> = {};
    for (const [kind, url] of Object.entries(kinds)) {
      const api = webhookApi(server, await server.createProject('onramp', kind));
      await api.createEndpoint(ops.url, { enabledEvents: ['endpoint.failing'] });
      tenants[kind] = { api, endpointId: (await api.createEndpoint(url)).id };
    }
    const healthy = webhookApi(server, await server.createProject('onramp', 'healthy'));
    await healthy.createEndpoint(healthyReceiver.url);

    const perTenant = 5;
    for (let i = 0; i < perTenant; i++) {
      for (const { api } of Object.values(tenants)) await api.createOrder();
      await healthy.createOrder();
    }
    // The healthy tenant does not wait for the bad endpoints' timeouts.
    await healthyReceiver.waitForCount(perTenant, 10_000);

    // The endpoints that never give a status fail on the timeout, the redirect loop on its 302,
    // the reset on the connection: each run of failures makes the endpoint failing.
    const failing = ['hanging', 'silent', 'redirect', 'reset'];
    const announced = await ops.waitFor(
      (requests) => failing.every((kind) => requests.some((r) => JSON.parse(r.body).data.id === tenants[kind]!.endpointId)),
      20_000,
      'endpoint.failing for every bad endpoint',
    );
    for (const r of announced) expect(JSON.parse(r.body).eventName).toBe('endpoint.failing');
    const firstAttempt = async (kind: string) => {
      const { api, endpointId } = tenants[kind]!;
      const [delivery] = (await api.deliveries(`&endpointId=${endpointId}`)).slice(-1);
      return (await api.delivery(delivery.id)).attempts[0];
    };
    for (const kind of ['hanging', 'silent']) {
      const attempt = await firstAttempt(kind);
      expect(attempt).toMatchObject({ outcome: 'failed', statusCode: null, errorCode: 'timeout' });
      // Given up at the timeout, not held.
      expect(attempt.durationMs).toBeLessThan(3_000);
    }
    expect(await firstAttempt('redirect')).toMatchObject({ outcome: 'failed', statusCode: 302 });
    expect((await firstAttempt('reset')).errorCode).not.toBeNull();
    // Only the redirect's own URL was asked, once per attempt: the redirect is not followed.
    expect(redirecting.requests.every((r) => r.path === '/webhook')).toBe(true);

    // The trickler and the slow receiver answer 200 within the timeout: delivered, each attempt
    // ended by the timeout at the latest, whatever the body does.
    for (const kind of ['trickle', 'slow']) {
      const { api, endpointId } = tenants[kind]!;
      await eventually(
        async () => {
          const list = await api.deliveries(`&endpointId=${endpointId}`);
          return list.length === perTenant && list.every((d) => d.status === 'succeeded') ? list : undefined;
        },
        20_000,
        `every delivery to the ${kind} endpoint`,
      );
      const [delivery] = await api.deliveries(`&endpointId=${endpointId}`);
      expect((await api.delivery(delivery.id)).attempts[0].durationMs).toBeLessThan(3_000);
    }
    // Each delivery to a failing endpoint was tried once and now waits on its schedule: no hot loop of retries.
    for (const kind of failing) {
      const { api, endpointId } = tenants[kind]!;
      const tried = await eventually(
        async () => {
          const list = await api.deliveries(`&endpointId=${endpointId}`);
          return list.length === perTenant && list.every((d) => d.attemptCount > 0) ? list : undefined;
        },
        10_000,
        `every delivery to the ${kind} endpoint to be tried`,
      );
      expect(tried.map((d) => [d.status, d.attemptCount])).toEqual(tried.map(() => ['pending', 1]));
    }
  });

  it("moves a failing endpoint's backlog one probe at a time, and drains it in order once a probe succeeds", async () => {
    const receiver = await startTrackedReceiver();
    cleanups.push(() => receiver.close());
    const ops = await startReceiver();
    cleanups.push(() => ops.close());
    const api = webhookApi(server, await server.createProject('onramp', 'probe'));
    await api.createEndpoint(ops.url, { enabledEvents: ['endpoint.failing', 'endpoint.recovered'] });
    const endpoint = await api.createEndpoint(receiver.url);

    const orders: string[] = [];
    for (let i = 0; i < 12; i++) orders.push((await api.createOrder({ status: 'AWAITING_PAYMENT_FROM_USER' })).id);
    for (const id of orders) await api.transition(id, 'PROCESSING');

    // The first lane's worth times out; the endpoint is failing.
    const [failing] = await ops.waitForCount(1, 15_000);
    expect(JSON.parse(failing!.body)).toMatchObject({ eventName: 'endpoint.failing', data: { id: endpoint.id } });
    // From when the attempts started before that have ended: one probe at a time.
    await eventually(() => (receiver.open <= 1 ? true : undefined), 10_000, 'the earlier attempts to end');
    receiver.resetMax();
    const probesBefore = receiver.received.length;
    await eventually(() => (receiver.received.length >= probesBefore + 2 ? true : undefined), 10_000, 'two more probes');
    expect(receiver.maxOpen).toBe(1);

    // The receiver is fixed: the next probe succeeds, the endpoint has recovered, and the
    // backlog (which waits a minute on the schedule) goes out at once, each order in order.
    receiver.answer();
    await ops.waitFor((requests) => requests.some((r) => JSON.parse(r.body).eventName === 'endpoint.recovered'), 15_000, 'endpoint.recovered');
    await eventually(
      async () => {
        const list = await api.deliveries(`&endpointId=${endpoint.id}`);
        return list.length === orders.length * 2 && list.every((d) => d.status === 'succeeded') ? list : undefined;
      },
      20_000,
      'the backlog to drain',
    );
    const delivered = new Map<string, number[]>();
    for (const { body } of receiver.received) delivered.set(body.data.id, [...(delivered.get(body.data.id) ?? []), body.data.version]);
    for (const id of orders) {
      const versions = delivered.get(id)!;
      // Retries repeat a version; a newer one never comes before an older one has gone through.
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(versions.at(-1)).toBe(2);
    }
  });
});
