import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackOrder } from '../src/track.js';
import { runNode, type Child } from './helpers/child.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { pause } from './helpers/wait.js';

const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

/** The examples under examples/, run as their own processes against a real server. */
describe('examples', () => {
  let ordercast: Ordercast;
  const children: Child[] = [];
  beforeAll(async () => {
    ordercast = await startOrdercast();
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await ordercast?.close();
  });
  const run = (name: string, args: string[], env: Record<string, string>) => {
    const child = runNode(example(name), args, env);
    children.push(child);
    return child;
  };

  it('track-order.mjs prints every status and exits 0 at the final one', async () => {
    const order = await ordercast.createOrder({ status: 'PROCESSING' });
    const child = run('track-order.mjs', [order.id], { ORDERCAST_URL: ordercast.baseUrl, ORDERCAST_SECRET_KEY: ordercast.secretKey });
    await child.waitFor(/v1: Status = PROCESSING/);
    await ordercast.setStatus(order.id, 'PENDING_DELIVERY');
    await pause(100);
    await ordercast.setStatus(order.id, 'COMPLETED');
    expect(await child.exited).toBe(0);
    expect(child.stdout().trim().split('\n')).toEqual([
      'v1: Status = PROCESSING',
      'v2: Status = PENDING_DELIVERY',
      'v3: Status = COMPLETED',
      'Final status: COMPLETED',
    ]);
  });

  it('track-order.mjs exits 1 naming the error for an unknown order', async () => {
    const child = run('track-order.mjs', ['ord_doesnotexist000000000000'], { ORDERCAST_URL: ordercast.baseUrl, ORDERCAST_SECRET_KEY: ordercast.secretKey });
    expect(await child.exited).toBe(1);
    expect(child.stderr()).toContain('OrderNotFoundError (order_not_found)');
  });

  it('webhook-receiver.mjs accepts a signed delivery once and refuses a tampered one', async () => {
    const secret = 'whsec_' + Buffer.from('example webhook secret 24b').toString('base64');
    const child = run('webhook-receiver.mjs', [], { ORDERCAST_WEBHOOK_SECRET: secret, PORT: '0' });
    const [, url] = await child.waitFor(/listening on (\S+)/);
    const order = await ordercast.createOrder();
    const completed = await ordercast.setStatus(order.id, 'CANCELLED');
    const body = JSON.stringify({ id: 'evt_1', eventName: 'ORDER_CANCELLED', createdAt: completed.updatedAt, data: completed });
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_1', now, body),
    };

    const delivered = await fetch(url, { method: 'POST', headers, body });
    expect(delivered.status).toBe(200);
    expect(await delivered.json()).toEqual({ received: true });
    const retried = await fetch(url, { method: 'POST', headers, body });
    expect(retried.status).toBe(200);
    const tampered = await fetch(url, { method: 'POST', headers, body: body.replace('CANCELLED', 'COMPLETED') });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toEqual({ error: 'invalid_signature' });
    await pause(100);
    expect(child.stdout().match(/is now CANCELLED/g)).toHaveLength(1);
    expect(child.stderr()).toContain('invalid_signature');
  });

  it('checkout/server.mjs serves the page and the SDK, mints user tokens, and forwards the API', async () => {
    const child = run('checkout/server.mjs', [], {
      ORDERCAST_URL: ordercast.baseUrl,
      ORDERCAST_SECRET_KEY: ordercast.secretKey,
      ORDERCAST_PUBLISHABLE_KEY: ordercast.publishableKey,
      PORT: '0',
    });
    const [, url] = await child.waitFor(/on (http\S+)/);
    const page = await fetch(url).then((r) => r.text());
    expect(page).toContain('"socket.io-client": "/vendor/socket.io-client.js"');
    expect(page).toContain("from '/sdk/track.js'");
    for (const asset of ['/sdk/track.js', '/sdk/track-order.js', '/vendor/socket.io-client.js']) {
      const answer = await fetch(url + asset);
      expect(answer.status, asset).toBe(200);
      expect(answer.headers.get('content-type')).toBe('text/javascript');
    }
    expect((await fetch(url + '/sdk/../package.json')).status).toBe(404);

    // What the page does, run here in Node (the browser test is still to come).
    const order = await ordercast.createOrder({ userExternalId: 'user-7' });
    const { token, publishableKey } = await fetch(`${url}/token?user=user-7`).then((r) => r.json());
    expect(publishableKey).toBe(ordercast.publishableKey);
    const tracker = trackOrder(order.id, { baseUrl: url, credentials: { publishableKey, token }, transport: 'poll' });
    const statuses: string[] = [];
    tracker.on('update', (o) => statuses.push(o.status));
    await pause(200);
    await ordercast.setStatus(order.id, 'FAILED');
    expect((await tracker.finished).status).toBe('FAILED');
    expect(statuses).toEqual(['AWAITING_PAYMENT_FROM_USER', 'FAILED']);
  });
});
