import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BadEndpoint, startBadEndpoint } from '../helpers/bad-endpoints.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const MOVES = ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'COMPLETED'];

describe.each(testDialects)('per-endpoint lanes (%s)', (dialect) => {
  let server: TestServer;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    server = await startTestServer(dialect, {
      ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
      // The old server-wide default: lanes, not a bigger pool, keep the tenants apart.
      ORDERCAST_WEBHOOK_CONCURRENCY: '16',
      // Longer than the test: no hanging attempt ends and frees anything while it runs.
      ORDERCAST_WEBHOOK_TIMEOUT: '60s',
    });
    cleanups.push(() => server.close());
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("delivers a healthy tenant's events while another tenant's endpoints hang, each hanging endpoint holding only its lane", async () => {
    const healthy = webhookApi(server, await server.createProject('onramp', 'P2'));
    const noisy = webhookApi(server, await server.createProject('onramp', 'P3'));
    const received = await startReceiver();
    cleanups.push(() => received.close());
    // Holds every request without answering (a receiver stuck on its database).
    const hanging: WebhookReceiver = await startReceiver(() => ({ hang: true }));
    cleanups.push(() => hanging.close());
    // Accepts connections and never reads them.
    const silent: BadEndpoint = await startBadEndpoint('silent');
    cleanups.push(() => silent.close());
    await healthy.createEndpoint(received.url);
    await noisy.createEndpoint(hanging.url, { maxInFlight: 2 });
    await noisy.createEndpoint(silent.url);

    // Both tenants write, interleaved: each order created, then moved three times.
    const orders = 10;
    const ids: Array<{ healthy: string; noisy: string }> = [];
    for (let i = 0; i < orders; i++) {
      ids.push({ healthy: (await healthy.createOrder()).id, noisy: (await noisy.createOrder()).id });
    }
    for (const status of MOVES) {
      for (const { healthy: h, noisy: n } of ids) {
        await healthy.transition(h, status);
        await noisy.transition(n, status);
      }
    }
    const expected = orders * (1 + MOVES.length);
    // Well inside the hanging attempts' 60 s: nothing of P3's has freed a slot by then.
    const requests = await received.waitForCount(expected, 20_000);
    const unique = new Set(requests.map((r) => r.headers['webhook-id']));
    expect(unique.size).toBe(expected);
    // Per order, in order.
    const versions = new Map<string, number[]>();
    for (const r of requests) {
      const { data } = JSON.parse(r.body);
      versions.set(data.id, [...(versions.get(data.id) ?? []), data.version]);
    }
    for (const seen of versions.values()) expect(seen).toEqual([1, 2, 3, 4]);
    // The hanging endpoints hold what their lanes allow, no more: 2 (its own setting) and 4 (the default).
    expect(hanging.requests.length).toBe(2);
    expect(silent.connections).toBe(4);
  });

  it('refuses a lane width that is not a whole number from 1 to the server cap, with a stable code', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const cases: Array<[unknown, string]> = [
      [0, 'invalid_max_in_flight'],
      [-1, 'invalid_max_in_flight'],
      [2.5, 'invalid_max_in_flight'],
      // Above this server's ORDERCAST_WEBHOOK_CONCURRENCY.
      [17, 'invalid_max_in_flight'],
      ['4', 'validation_failed'],
    ];
    const endpoint = await api.createEndpoint('http://127.0.0.1:9/webhook', { maxInFlight: 16 });
    expect((await api.endpoint(endpoint.id)).maxInFlight).toBe(16);
    for (const [maxInFlight, code] of cases) {
      const created = await api.request('POST', '/api/v2/webhook-endpoints', { url: 'http://127.0.0.1:9/webhook', maxInFlight });
      expect([created.status, created.body?.error?.code], `POST maxInFlight ${maxInFlight}`).toEqual([400, code]);
      const patched = await api.request('PATCH', `/api/v2/webhook-endpoints/${endpoint.id}`, { maxInFlight });
      expect([patched.status, patched.body?.error?.code], `PATCH maxInFlight ${maxInFlight}`).toEqual([400, code]);
    }
    expect((await api.endpoint(endpoint.id)).maxInFlight).toBe(16);
    const reset = await api.request('PATCH', `/api/v2/webhook-endpoints/${endpoint.id}`, { maxInFlight: null });
    expect(reset.body.maxInFlight).toBeNull();
  });
});
