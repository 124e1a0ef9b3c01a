import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { eventually, startReceiver, webhookHeaders, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/** Four attempts 200 ms apart, no jitter, 1.5 s timeout: the real dispatcher at test speed. */
const FAST = {
  ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
  ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms,200ms',
  ORDERCAST_WEBHOOK_RETRY_JITTER: '0',
  ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
  ORDERCAST_WEBHOOK_TIMEOUT: '1500ms',
};

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(testDialects)('webhook delivery (%s)', (dialect) => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };
  const fresh = async () => webhookApi(server, await server.createProject('onramp'));

  beforeAll(async () => {
    server = await startTestServer(dialect, FAST);
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await server?.close();
  });

  it('POSTs every event signed, in the documented shape, verifiable with standardwebhooks', async () => {
    const api = await fresh();
    const hook = await receiver();
    const endpoint = await api.createEndpoint(hook.url);
    const order = await api.createOrder({ externalId: 'ext-1', amount: '25.00', currency: 'EUR' });
    await api.transition(order.id, 'PROCESSING');
    await api.transition(order.id, 'COMPLETED');
    const requests = await hook.waitForCount(3);

    const verifier = new Webhook(endpoint.secret);
    const bodies = requests.map((r) => verifier.verify(r.body, webhookHeaders(r)) as any);
    expect(bodies.map((b) => b.eventName)).toEqual(['ORDER_CREATED', 'ORDER_PROCESSING', 'ORDER_COMPLETED']);
    expect(bodies.map((b) => b.data.version)).toEqual([1, 2, 3]);
    expect(bodies[2]).toMatchObject({ data: { id: order.id, status: 'COMPLETED', final: true, externalId: 'ext-1', amount: '25.00' } });
    expect(Object.keys(bodies[0]).sort()).toEqual(['createdAt', 'data', 'eventName', 'id']);
    expect(bodies[0].id).toMatch(/^evt_/);
    for (const r of requests) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/webhook');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toBe(`Ordercast/${VERSION}`);
      expect(r.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9]+$/);
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    // The delivery log names the same ids. Outcomes are written in batches after the receiver
    // answers, so wait until all three are recorded before asserting what they say.
    const log = await eventually(
      async () => {
        const deliveries = await api.deliveries(`&endpointId=${endpoint.id}`);
        return deliveries.length === 3 && deliveries.every((d) => d.status !== 'pending') ? deliveries : undefined;
      },
      10_000,
      'the three deliveries to be recorded',
    );
    expect(log.map((d) => d.id).sort()).toEqual(requests.map((r) => r.headers['webhook-id']).sort());
    expect(log.every((d) => d.status === 'succeeded' && d.attemptCount === 1 && d.lastStatusCode === 200)).toBe(true);
  });

  it('sends only the events an endpoint enabled', async () => {
    const api = await fresh();
    const hook = await receiver();
    await api.createEndpoint(hook.url, { enabledEvents: ['ORDER_COMPLETED'] });
    const order = await api.createOrder();
    await api.transition(order.id, 'PROCESSING');
    await api.transition(order.id, 'COMPLETED');
    await hook.waitForCount(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hook.requests.map((r) => JSON.parse(r.body).eventName)).toEqual(['ORDER_COMPLETED']);
  });

  it('signs with both secrets during a rotation grace period and only the new one after it', async () => {
    const api = await fresh();
    const hook = await receiver();
    const endpoint = await api.createEndpoint(hook.url);
    const rotated = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/rotate-secret`, { graceSeconds: 2 });
    expect(rotated.status).toBe(200);
    const oldVerifier = new Webhook(endpoint.secret);
    const newVerifier = new Webhook(rotated.body.secret);

    const during = await api.sendTest(endpoint.id);
    expect(during.eventName).toBe('WEBHOOK_TEST');
    const [first] = await hook.waitForCount(1);
    expect(first!.headers['webhook-id']).toBe(during.id);
    expect(String(first!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(oldVerifier.verify(first!.body, webhookHeaders(first!))).toMatchObject({ eventName: 'WEBHOOK_TEST' });
    expect(newVerifier.verify(first!.body, webhookHeaders(first!))).toMatchObject({ eventName: 'WEBHOOK_TEST' });

    const waitMs = Date.parse(rotated.body.previousSecretExpiresAt) - Date.now() + 100;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)));
    await api.sendTest(endpoint.id);
    const [, second] = await hook.waitForCount(2);
    expect(String(second!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(newVerifier.verify(second!.body, webhookHeaders(second!))).toMatchObject({ eventName: 'WEBHOOK_TEST' });
    expect(() => oldVerifier.verify(second!.body, webhookHeaders(second!))).toThrow(WebhookVerificationError);
  });

  it('retries on 500 with the same webhook-id until a 2xx, and logs every attempt', async () => {
    const api = await fresh();
    const hook = await receiver((_req, i) => (i < 2 ? { status: 500, body: 'boom' } : { status: 204 }));
    await api.createEndpoint(hook.url);
    await api.createOrder();
    const requests = await hook.waitForCount(3);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const [delivery] = await api.deliveries();
    const detail = await api.settled(delivery.id);
    expect(detail.status).toBe('succeeded');
    expect(detail.attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 204]);
    expect(detail.attempts[0]).toMatchObject({ outcome: 'failed', responseBody: 'boom', errorCode: null });
    expect(detail.attempts[0].responseHeaders['content-type']).toBe('application/json');
    expect(detail.attempts[2].outcome).toBe('succeeded');
    expect(detail.payload.eventName).toBe('ORDER_CREATED');
  });

  it('records every attempt of a burst, outcomes written in batches, with a receiver that refuses some', async () => {
    const api = await fresh();
    // Every third delivery is refused once (500), then accepted.
    const answers = new Map<string, number[]>();
    const hook = await receiver((req) => {
      const id = String(req.headers['webhook-id']);
      const sent = answers.get(id) ?? [];
      answers.set(id, sent);
      const status = sent.length === 0 && answers.size % 3 === 0 ? 500 : 200;
      sent.push(status);
      return status === 500 ? { status, body: 'try again' } : { status };
    });
    const endpoint = await api.createEndpoint(hook.url);
    await Promise.all(Array.from({ length: 45 }, (_, i) => api.createOrder({ externalId: `burst-${i}` })));
    const deliveries = await eventually(
      async () => {
        const all = await api.deliveries(`&endpointId=${endpoint.id}`);
        return all.length === 45 && all.every((d) => d.status === 'succeeded') ? all : undefined;
      },
      20_000,
      'every delivery of the burst to succeed',
    );
    for (const d of deliveries) {
      const detail = await api.delivery(d.id);
      // What the receiver answered, attempt by attempt, is what the delivery log holds.
      expect(detail.attempts.map((a: any) => a.statusCode)).toEqual(answers.get(d.id));
      expect(detail.attemptCount).toBe(detail.attempts.length);
    }
    expect(deliveries.filter((d) => d.attemptCount === 2)).toHaveLength(15);
    // The last outcomes were successes: the endpoint is healthy.
    expect((await api.endpoint(endpoint.id)).failingSince).toBeNull();
  });

  it('retries when nothing listens, gives up after the schedule, and recover re-sends once the receiver is back', async () => {
    const api = await fresh();
    const port = await freePort();
    const endpoint = await api.createEndpoint(`http://127.0.0.1:${port}/webhook`);
    const since = new Date(Date.now() - 1000).toISOString();
    await api.createOrder();
    const [delivery] = await api.deliveries();
    const failed = await api.settled(delivery.id);
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toHaveLength(4);
    expect(failed.attempts.every((a: any) => a.errorCode === 'connection_refused' && a.statusCode === null)).toBe(true);

    const got: string[] = [];
    const back = http.createServer((req, res) => {
      got.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => back.listen(port, '127.0.0.1', resolve));
    try {
      const recovered = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/recover`, { since });
      expect(recovered.status).toBe(202);
      expect(recovered.body.requeued).toBe(1);
      const done = await api.settled(delivery.id);
      expect(done.status).toBe('succeeded');
      expect(got).toEqual([delivery.id]);
      // A window that holds no failure re-queues nothing.
      const empty = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/recover`, {
        since: '2020-01-01T00:00:00Z',
        until: '2020-01-02T00:00:00Z',
      });
      expect(empty.body.requeued).toBe(0);
    } finally {
      await new Promise<void>((resolve) => back.close(() => resolve()));
    }
  });

  it('honours Retry-After on 429', async () => {
    const api = await fresh();
    const hook = await receiver((_req, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    await api.createEndpoint(hook.url);
    await api.createOrder();
    const [first, second] = await hook.waitForCount(2, 10_000);
    // The schedule alone would retry after 200 ms.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1900);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const api = await fresh();
    const elsewhere = await receiver();
    const hook = await receiver(() => ({ status: 302, headers: { location: elsewhere.url } }));
    await api.createEndpoint(hook.url);
    await api.createOrder();
    const [delivery] = await api.deliveries();
    const detail = await api.settled(delivery.id);
    expect(detail.status).toBe('failed');
    expect(detail.attempts.map((a: any) => a.statusCode)).toEqual([302, 302, 302, 302]);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('disables the endpoint on 410 Gone and stops sending to it', async () => {
    const api = await fresh();
    const hook = await receiver(() => ({ status: 410 }));
    const endpoint = await api.createEndpoint(hook.url);
    const order = await api.createOrder();
    const [delivery] = await api.deliveries();
    const detail = await api.settled(delivery.id);
    expect(detail.status).toBe('failed');
    expect(detail.attempts).toHaveLength(1);
    const disabled = await api.endpoint(endpoint.id);
    expect(disabled).toMatchObject({ disabled: true, disabledReason: 'the endpoint answered 410 Gone' });
    await api.transition(order.id, 'PROCESSING');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hook.requests).toHaveLength(1);
    expect(await api.deliveries()).toHaveLength(1);
  });

  it("keeps each order's events in order while another order's events flow", async () => {
    const api = await fresh();
    let slowOrderId = '';
    let failuresLeft = 3;
    const hook = await receiver((req) => {
      const body = JSON.parse(req.body);
      if (body.data.id === slowOrderId && body.eventName === 'ORDER_CREATED' && failuresLeft > 0) {
        failuresLeft--;
        // Retry-After stretches the hold to about 3 s, a wide margin for the fast order.
        return { status: 503, headers: { 'retry-after': '1' } };
      }
      return { status: 200 };
    });
    await api.createEndpoint(hook.url);
    const slow = await api.createOrder({ externalId: 'slow' });
    slowOrderId = slow.id;
    await api.transition(slow.id, 'PROCESSING');
    await api.transition(slow.id, 'COMPLETED');
    const fast = await api.createOrder({ externalId: 'fast' });
    await api.transition(fast.id, 'PROCESSING');
    await api.transition(fast.id, 'COMPLETED');

    await hook.waitFor((r) => r.filter((x) => JSON.parse(x.body).data.id === slow.id).length >= 6, 15_000, 'all of the slow order');
    const seen = hook.requests.map((r) => ({ ...JSON.parse(r.body), at: r.receivedAt }));
    const slowSeen = seen.filter((e) => e.data.id === slow.id);
    const fastSeen = seen.filter((e) => e.data.id === fast.id);
    // The slow order: three refused ORDER_CREATED, then its events strictly in version order.
    expect(slowSeen.map((e) => e.data.version)).toEqual([1, 1, 1, 1, 2, 3]);
    expect(fastSeen.map((e) => e.data.version)).toEqual([1, 2, 3]);
    // The fast order was not held back by the slow one.
    const slowCreatedOk = slowSeen[3]!.at;
    expect(fastSeen[2]!.at).toBeLessThan(slowCreatedOk);
  });

  it('redelivers a delivery on request with the same webhook-id', async () => {
    const api = await fresh();
    const hook = await receiver();
    await api.createEndpoint(hook.url);
    await api.createOrder();
    const [first] = await hook.waitForCount(1);
    const id = String(first!.headers['webhook-id']);
    await api.settled(id);
    const redelivered = await api.request('POST', `/api/v2/webhook-deliveries/${id}/redeliver`);
    expect(redelivered.status).toBe(202);
    const [, again] = await hook.waitForCount(2);
    expect(again!.headers['webhook-id']).toBe(id);
    expect(again!.body).toBe(first!.body);
    const detail = await eventually(async () => {
      const d = await api.delivery(id);
      return d.attempts.length === 2 && d.status === 'succeeded' ? d : undefined;
    });
    expect(detail.attemptCount).toBe(2);
  });

  it('gives up on a receiver that never answers, recording a timeout', async () => {
    const api = await fresh();
    const hook = await receiver(() => ({ hang: true }));
    await api.createEndpoint(hook.url);
    await api.createOrder();
    const [delivery] = await api.deliveries();
    const started = Date.now();
    const attempt = await eventually(async () => (await api.delivery(delivery.id)).attempts[0], 10_000, 'the first attempt');
    expect(attempt).toMatchObject({ outcome: 'failed', statusCode: null, errorCode: 'timeout' });
    expect(attempt.durationMs).toBeGreaterThanOrEqual(1400);
    expect(attempt.durationMs).toBeLessThan(5000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reads only the first 4 KiB of a 100 MB response', async () => {
    const api = await fresh();
    const hook = await receiver(() => ({ status: 200, streamBytes: 100 * 1024 * 1024 }));
    await api.createEndpoint(hook.url);
    const heapBefore = process.memoryUsage().heapUsed;
    await api.createOrder();
    const [delivery] = await api.deliveries();
    const detail = await api.settled(delivery.id, 10_000);
    expect(detail.status).toBe('succeeded');
    expect(detail.attempts[0].responseBody.length).toBe(4096);
    expect(detail.attempts[0].durationMs).toBeLessThan(1500);
    // The sender hung up: far less than 100 MB was ever written, let alone buffered.
    expect(hook.bytesStreamed).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    console.log(
      `[100 MB response] stored ${detail.attempts[0].responseBody.length} bytes; receiver wrote ${(hook.bytesStreamed / 1048576).toFixed(1)} MiB before the hang-up; attempt ${detail.attempts[0].durationMs} ms`,
    );
  });

  it('exposes delivery outcomes, attempt latency, queue depth and oldest pending age in /metrics', async () => {
    const response = await fetch(server.metricsUrl);
    const text = await response.text();
    expect(text).toMatch(/ordercast_webhook_deliveries_total\{outcome="succeeded"\} \d+/);
    expect(text).toMatch(/ordercast_webhook_deliveries_total\{outcome="failed"\} \d+/);
    expect(text).toMatch(/ordercast_webhook_attempt_duration_seconds_bucket\{le="0.1",outcome="success"\} \d+/);
    expect(text).toMatch(/ordercast_webhook_attempt_duration_seconds_count\{outcome="timeout"\} \d+/);
    expect(text).toMatch(/ordercast_webhook_queue_depth \d+/);
    expect(text).toMatch(/ordercast_webhook_oldest_pending_age_seconds [\d.e+-]+/);
    expect(text).toMatch(/ordercast_webhook_endpoints_disabled_total [1-9]/);
  });
});
