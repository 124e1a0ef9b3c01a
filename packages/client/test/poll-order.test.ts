import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, AuthError, OrderNotFoundError, pollOrder, RateLimitedError, TimeoutError } from '../src/poll.js';
import type { Order } from '../src/types.js';
import { startFaultyProxy } from './helpers/faulty-proxy.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { waitUntil } from './helpers/wait.js';

const fast = { backoff: { baseMs: 20, capMs: 200 }, minIntervalMs: 50 };

describe('pollOrder against a real server', () => {
  let ordercast: Ordercast;
  beforeAll(async () => {
    ordercast = await startOrdercast();
  });
  afterAll(() => ordercast?.close());

  it('follows an order through its lifecycle and resolves with the final order', async () => {
    const order = await ordercast.createOrder();
    const seen: string[] = [];
    const done = pollOrder(order.id, {
      baseUrl: ordercast.baseUrl,
      credentials: { secretKey: ordercast.secretKey },
      onUpdate: (update) => seen.push(`${update.version}:${update.status}`),
      ...fast,
    });
    // Each change once the one before has been seen, so every version comes from a poll of its own.
    for (const [i, status] of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'].entries()) {
      await waitUntil(() => seen.length === i + 1, 10_000, `version ${i + 1}`);
      await ordercast.setStatus(order.id, status);
    }
    const final = await done;
    expect(final.status).toBe('COMPLETED');
    expect(final.final).toBe(true);
    expect(seen).toEqual(['1:AWAITING_PAYMENT_FROM_USER', '2:PROCESSING', '3:PENDING_DELIVERY', '4:COMPLETED']);
  });

  it('resolves at once for an order that is already final', async () => {
    const order = await ordercast.createOrder();
    await ordercast.setStatus(order.id, 'CANCELLED');
    const final = await pollOrder(order.id, { baseUrl: ordercast.baseUrl, credentials: { secretKey: ordercast.secretKey } });
    expect(final.status).toBe('CANCELLED');
  });

  it('reads with a user token, as a browser would', async () => {
    const order = await ordercast.createOrder({ status: 'PROCESSING', userExternalId: 'user-7' });
    const token = await ordercast.userToken('user-7');
    setTimeout(() => void ordercast.setStatus(order.id, 'FAILED'), 200);
    const final = await pollOrder(order.id, { baseUrl: ordercast.baseUrl, credentials: { publishableKey: ordercast.publishableKey, token } });
    expect(final.status).toBe('FAILED');
  });

  it('rejects an unknown order id with OrderNotFoundError after one request', async () => {
    const proxy = await startFaultyProxy(ordercast.baseUrl, () => 'forward');
    try {
      const error = await pollOrder('ord_doesnotexist000000000000', { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey } }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(OrderNotFoundError);
      expect(error.code).toBe('order_not_found');
      expect(error.status).toBe(404);
      expect(proxy.requests).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("hides another user's order exactly like a missing one", async () => {
    const order = await ordercast.createOrder({ userExternalId: 'user-1' });
    const token = await ordercast.userToken('user-2');
    const error = await pollOrder(order.id, { baseUrl: ordercast.baseUrl, credentials: { publishableKey: ordercast.publishableKey, token } }).catch((e) => e);
    expect(error).toBeInstanceOf(OrderNotFoundError);
  });

  it('stops with AuthError on an expired token or an unknown key, without retrying', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'user-3' });
    const expired = await ordercast.userToken('user-3', -60);
    const proxy = await startFaultyProxy(ordercast.baseUrl, () => 'forward');
    try {
      const credentials = { publishableKey: ordercast.publishableKey, token: expired };
      const error = await pollOrder(order.id, { baseUrl: proxy.baseUrl, credentials }).catch((e) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe('token_expired');
      const revoked = await pollOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: 'sk_' + 'x'.repeat(40) } }).catch((e) => e);
      expect(revoked).toBeInstanceOf(AuthError);
      expect(revoked.code).toBe('unauthorized');
      expect(proxy.requests).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it('rejects with TimeoutError at maxWaitMs and stops asking', async () => {
    const order = await ordercast.createOrder();
    const proxy = await startFaultyProxy(ordercast.baseUrl, () => 'forward');
    try {
      const started = Date.now();
      const error = await pollOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey }, maxWaitMs: 700 }).catch((e) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(5000);
      const asked = proxy.requests.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(proxy.requests.length).toBe(asked);
    } finally {
      await proxy.close();
    }
  });

  it('rejects with AbortError when the caller aborts, mid long-poll', async () => {
    const order = await ordercast.createOrder();
    const controller = new AbortController();
    const updates: Order[] = [];
    const done = pollOrder(order.id, {
      baseUrl: ordercast.baseUrl,
      credentials: { secretKey: ordercast.secretKey },
      signal: controller.signal,
      onUpdate: (o) => updates.push(o),
    });
    // The first answer is in: what follows is the long-poll for a change.
    await waitUntil(() => updates.length === 1, 10_000, 'the first answer');
    controller.abort();
    const error = await done.catch((e) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.name).toBe('AbortError');
    expect(updates.map((o) => o.version)).toEqual([1]);
  });
});

describe('pollOrder when the server says slow down', () => {
  let ordercast: Ordercast;
  beforeAll(async () => {
    ordercast = await startOrdercast({ ORDERCAST_RATE_LIMIT: '1', ORDERCAST_RATE_LIMIT_BURST: '1' });
  });
  afterAll(() => ordercast?.close());

  it('waits for Retry-After on 429 and then carries on', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'user-9' });
    const token = await ordercast.userToken('user-9');
    await ordercast.server.request('GET', `/api/v2/orders/${order.id}`, { key: token }); // empty this user's bucket
    const retries: Array<{ error: unknown; delayMs: number }> = [];
    const started = Date.now();
    setTimeout(() => void ordercast.setStatus(order.id, 'CANCELLED'), 100);
    const final = await pollOrder(order.id, {
      baseUrl: ordercast.baseUrl,
      credentials: { publishableKey: ordercast.publishableKey, token },
      onRetry: (error, _attempt, delayMs) => retries.push({ error, delayMs }),
      ...fast,
    });
    expect(final.status).toBe('CANCELLED');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0].error).toBeInstanceOf(RateLimitedError);
    expect(retries[0].delayMs).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
