import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError, pollOrder, ServerError } from '../src/poll.js';
import { startFaultyProxy, type FaultyProxy } from './helpers/faulty-proxy.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { waitUntil } from './helpers/wait.js';

const fast = { backoff: { baseMs: 20, capMs: 200 }, minIntervalMs: 50 };
const captivePortal = '<!doctype html><html><head><title>Sign in to Wi-Fi</title></head><body>Accept the terms</body></html>';

describe('pollOrder over a bad network', () => {
  let ordercast: Ordercast;
  let proxy: FaultyProxy | undefined;
  beforeAll(async () => {
    ordercast = await startOrdercast();
  });
  afterAll(() => ordercast?.close());
  const withProxy = async (decide: Parameters<typeof startFaultyProxy>[1]) => {
    await proxy?.close();
    proxy = await startFaultyProxy(ordercast.baseUrl, decide);
    return proxy;
  };
  afterAll(() => proxy?.close());

  it('reaches the final status, each version once and in order, when every other request is dropped', async () => {
    const order = await ordercast.createOrder();
    const { baseUrl, requests } = await withProxy((n) => (n % 2 === 0 ? 'drop' : 'forward'));
    const versions: number[] = [];
    const retries: unknown[] = [];
    const done = pollOrder(order.id, {
      baseUrl,
      credentials: { secretKey: ordercast.secretKey },
      onUpdate: (o) => versions.push(o.version),
      onRetry: (error) => retries.push(error),
      ...fast,
    });
    // Each change once the one before has come through the faulty network.
    for (const [i, status] of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'].entries()) {
      await waitUntil(() => versions.length === i + 1, 10_000, `version ${i + 1}`);
      await ordercast.setStatus(order.id, status);
    }
    const final = await done;
    expect(final.status).toBe('COMPLETED');
    expect(versions).toEqual([1, 2, 3, 4]);
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((e) => e instanceof NetworkError)).toBe(true);
    expect(requests.length).toBeGreaterThanOrEqual(2 * retries.length - 1);
  });

  it('gives up with a ServerError naming the HTML it got when the server always answers HTML', async () => {
    const order = await ordercast.createOrder();
    const { baseUrl, requests } = await withProxy(() => ({ html: captivePortal }));
    const error = await pollOrder(order.id, { baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast, maxConsecutiveErrors: 4 }).catch((e) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('text/html');
    expect(error.message).toContain('Sign in to Wi-Fi');
    expect(requests).toHaveLength(4);
  });

  it('rides out a load balancer that sometimes answers an HTML 502', async () => {
    const order = await ordercast.createOrder();
    const { baseUrl } = await withProxy((n) => (n % 3 === 1 ? { html: '<html><body><h1>502 Bad Gateway</h1></body></html>', status: 502 } : 'forward'));
    setTimeout(() => void ordercast.setStatus(order.id, 'FAILED'), 300);
    const final = await pollOrder(order.id, { baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
    expect(final.status).toBe('FAILED');
  });

  it('does not loop on a wrong baseUrl', async () => {
    const order = await ordercast.createOrder();
    const error = await pollOrder(order.id, { baseUrl: `${ordercast.baseUrl}/nope`, credentials: { secretKey: ordercast.secretKey } }).catch((e) => e);
    expect(error.code).toBe('route_not_found');
    expect(error.status).toBe(404);
  });
});
