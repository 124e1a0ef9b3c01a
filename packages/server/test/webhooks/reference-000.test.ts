import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { eventually } from '../helpers/webhook-receiver.js';

/**
 * The webhook handler of reference document 000 (a Next.js route handler),
 * unchanged except that the "Verify webhook signature" comment became a call to
 * `standardwebhooks`. It runs on Fetch API Request/Response objects, as in Next.js.
 */
function makeReferenceHandler(secret: string, calls: string[]) {
  const handleOrderCompleted = async (data: any) => void calls.push(`completed:${data.id}`);
  const handleOrderFailed = async (data: any) => void calls.push(`failed:${data.id}`);
  const updateOrderStatus = async (id: string, status: string) => void calls.push(`status:${id}:${status}`);

  return async function POST(request: Request) {
    try {
      const payload = await request.text();
      const signature = request.headers.get('x-OZZOBiT-signature');
      void signature;
      // Verify webhook signature
      // (See decryption guide for full implementation)
      new Webhook(secret).verify(payload, Object.fromEntries(request.headers));
      const event = JSON.parse(payload);
      const eventName = event.eventName;
      switch (eventName) {
        case 'ORDER_COMPLETED':
          await handleOrderCompleted(event.data);
          break;
        case 'ORDER_FAILED':
          await handleOrderFailed(event.data);
          break;
        case 'ORDER_PROCESSING':
          await updateOrderStatus(event.data.id, 'PROCESSING');
          break;
      }
      return Response.json({ received: true });
    } catch (error) {
      calls.push(`error:${(error as Error).message}`);
      return new Response('Error', { status: 500 });
    }
  };
}

/** Serves a Fetch-API handler over node:http, like Next.js does. */
async function serveFetchHandler(handler: (request: Request) => Promise<Response>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await handler(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: Buffer.concat(chunks) }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/OZZOBiT-webhook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(testDialects)('reference 000 webhook handler against Ordercast (%s)', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(dialect, {
      ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
      ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
      ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,100ms,100ms',
    });
  });
  afterAll(async () => server?.close());

  it('switches on eventName and reads event.data.id, with signatures verified', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const calls: string[] = [];
    // The endpoint must exist before the handler knows its secret; a placeholder URL is swapped in after.
    const endpoint = await api.createEndpoint('https://example.com/placeholder', { disabled: true });
    const receiver = await serveFetchHandler(makeReferenceHandler(endpoint.secret, calls));
    try {
      await api.request('PATCH', `/api/v2/webhook-endpoints/${endpoint.id}`, { url: receiver.url, disabled: false });
      const ok = await api.createOrder({ status: 'PROCESSING' });
      await api.transition(ok.id, 'COMPLETED');
      const bad = await api.createOrder();
      await api.transition(bad.id, 'PROCESSING');
      await api.transition(bad.id, 'FAILED');
      await eventually(() => (calls.length >= 3 ? true : undefined), 10_000, 'the handler calls');
      expect(calls).toContain(`completed:${ok.id}`);
      expect(calls).toContain(`status:${bad.id}:PROCESSING`);
      expect(calls).toContain(`failed:${bad.id}`);
      expect(calls.filter((c) => c.startsWith('error:'))).toEqual([]);
      // Every delivery was answered 200 {"received": true}.
      const log = await eventually(async () => {
        const all = await api.deliveries();
        return all.length === 5 && all.every((d) => d.status === 'succeeded') ? all : undefined;
      });
      expect(log.every((d) => d.lastStatusCode === 200)).toBe(true);
      // ORDER_CREATED (the "created" event of `ok` was ORDER_CREATED too) falls through the switch and is acknowledged.
    } finally {
      await receiver.close();
    }
  });

  it('answers 500 to a forged signature, so Ordercast retries', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const calls: string[] = [];
    const receiver = await serveFetchHandler(makeReferenceHandler('whsec_' + Buffer.alloc(32, 7).toString('base64'), calls));
    try {
      await api.createEndpoint(receiver.url);
      await api.createOrder();
      const [delivery] = await api.deliveries();
      const detail = await api.settled(delivery.id);
      expect(detail.status).toBe('failed');
      expect(detail.attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 500]);
      expect(calls[0]).toMatch(/^error:/);
    } finally {
      await receiver.close();
    }
  });
});
