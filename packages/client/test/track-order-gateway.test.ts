import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, OrderNotFoundError, trackOrder, type TransportName } from '../src/track.js';
import { startGatewayProxy, type GatewayProxy } from './helpers/gateway-proxy.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { waitUntil } from './helpers/wait.js';

const fast = { backoff: { baseMs: 20, capMs: 200 }, minIntervalMs: 50, socketConnectTimeoutMs: 1000 };

/** trackOrder against the real Socket.IO gateway at /ws, through a proxy that can cut it off. */
describe('trackOrder with the real Socket.IO gateway', () => {
  let ordercast: Ordercast;
  let proxy: GatewayProxy;
  beforeAll(async () => {
    ordercast = await startOrdercast();
    proxy = await startGatewayProxy(ordercast.baseUrl);
  });
  afterAll(async () => {
    await proxy?.close();
    await ordercast?.close();
  });

  it('receives every update live over the socket, without polling', async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
    const transports: TransportName[] = [];
    const versions: number[] = [];
    tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
    await waitUntil(() => tracker.transport === 'socket', 10_000, 'the socket subscription');
    const polledBefore = proxy.requests.filter((p) => p.startsWith('/api/')).length;
    for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) await ordercast.setStatus(order.id, status);
    const final = await tracker.finished;
    expect(final.status).toBe('COMPLETED');
    expect(versions).toEqual([1, 2, 3, 4]);
    expect(transports[0]).toBe('socket');
    expect(transports).not.toContain('poll');
    expect(proxy.requests.filter((p) => p.startsWith('/api/')).length).toBe(polledBefore);
  });

  it('with a user token: follows its own order live', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'shopper-9' });
    const token = await ordercast.userToken('shopper-9');
    const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { publishableKey: ordercast.publishableKey, token }, ...fast });
    await waitUntil(() => tracker.transport === 'socket', 10_000, 'the socket subscription');
    await ordercast.setStatus(order.id, 'CANCELLED');
    expect((await tracker.finished).status).toBe('CANCELLED');
  });

  it('when the socket endpoint becomes unreachable mid-order, SSE carries on with no missed or repeated version, and the socket takes back over', async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
    const transports: TransportName[] = [];
    const versions: number[] = [];
    tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
    await waitUntil(() => tracker.transport === 'socket', 10_000, 'the socket subscription');
    await ordercast.setStatus(order.id, 'PAYMENT_DONE_MARKED_BY_USER');
    await waitUntil(() => versions.length === 2, 5000, 'version 2 over the socket');

    proxy.cutSockets();
    await waitUntil(() => tracker.transport === 'sse', 10_000, 'the fallback to Server-Sent Events');
    await ordercast.setStatus(order.id, 'PROCESSING');
    await waitUntil(() => versions.length === 3, 5000, 'version 3 over SSE');

    proxy.restoreSockets();
    await waitUntil(() => tracker.transport === 'socket', 15_000, 'the socket coming back');
    await ordercast.setStatus(order.id, 'PENDING_DELIVERY');
    await ordercast.setStatus(order.id, 'COMPLETED');
    const final = await tracker.finished;
    expect(final.status).toBe('COMPLETED');
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect(transports).toEqual(['socket', 'sse', 'socket']);
    // SSE carried version 3 only: the socket's polling fallback (Socket.IO's own) was not used.
    expect(proxy.requests.some((p) => p.startsWith('/socket.io/') && p.includes('transport=polling'))).toBe(false);
  });

  it('falls back in order: socket blocked → SSE; SSE cut too → long-polling; every version once and in order', async () => {
    proxy.cutSockets();
    try {
      const order = await ordercast.createOrder();
      const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
      const transports: TransportName[] = [];
      const versions: number[] = [];
      tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
      await waitUntil(() => tracker.transport === 'sse', 10_000, 'Server-Sent Events');
      const polledBefore = proxy.requests.filter((p) => /^\/api\/v2\/orders\/[^/]+\?/.test(p) || /^\/api\/v2\/orders\/[^/?]+$/.test(p)).length;
      await ordercast.setStatus(order.id, 'PAYMENT_DONE_MARKED_BY_USER');
      await waitUntil(() => versions.length === 2, 5000, 'version 2 over SSE');
      expect(proxy.requests.filter((p) => /^\/api\/v2\/orders\/[^/]+\?/.test(p) || /^\/api\/v2\/orders\/[^/?]+$/.test(p)).length).toBe(polledBefore);

      proxy.cutStreams();
      await waitUntil(() => tracker.transport === 'poll', 10_000, 'long-polling');
      for (const status of ['PROCESSING', 'COMPLETED']) await ordercast.setStatus(order.id, status);
      expect((await tracker.finished).status).toBe('COMPLETED');
      expect(versions).toEqual([1, 2, 3, 4]);
      expect(transports).toEqual(['sse', 'poll']);
    } finally {
      proxy.restoreSockets();
      proxy.restoreStreams();
    }
  });

  it('with a user token and no WebSocket: follows its own order over SSE, the token in the Authorization header', async () => {
    proxy.cutSockets();
    try {
      const order = await ordercast.createOrder({ userExternalId: 'shopper-10' });
      const token = await ordercast.userToken('shopper-10');
      const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { publishableKey: ordercast.publishableKey, token }, ...fast });
      await waitUntil(() => tracker.transport === 'sse', 10_000, 'Server-Sent Events');
      await ordercast.setStatus(order.id, 'CANCELLED');
      expect((await tracker.finished).status).toBe('CANCELLED');
      expect(proxy.requests.some((p) => p.includes('token='))).toBe(false);
    } finally {
      proxy.restoreSockets();
    }
  });

  it("transport 'sse': every version once and in order over the stream alone, reconnecting with Last-Event-ID when the stream is cut", async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey }, transport: 'sse', ...fast });
    const transports: TransportName[] = [];
    const versions: number[] = [];
    tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
    await waitUntil(() => tracker.transport === 'sse', 10_000, 'the stream');
    await ordercast.setStatus(order.id, 'PAYMENT_DONE_MARKED_BY_USER');
    await waitUntil(() => versions.length === 2, 5000, 'version 2');
    proxy.cutStreams();
    await waitUntil(() => tracker.transport === 'none', 5000, 'the stream to be cut');
    // Written while no stream was open: the reconnect's Last-Event-ID brings them from the log.
    await ordercast.setStatus(order.id, 'PROCESSING');
    await ordercast.setStatus(order.id, 'PENDING_DELIVERY');
    proxy.restoreStreams();
    await waitUntil(() => versions.length === 4, 10_000, 'versions 3 and 4 after the reconnect');
    await ordercast.setStatus(order.id, 'COMPLETED');
    expect((await tracker.finished).status).toBe('COMPLETED');
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect(transports).toEqual(['sse', 'none', 'sse']);
    // No polling: only the stream was asked.
    expect(proxy.requests.filter((p) => p.startsWith(`/api/v2/orders/${order.id}`) && !p.startsWith(`/api/v2/orders/${order.id}/stream`))).toEqual([]);
  });

  it("transport 'sse': refused credentials are an AuthError, an unknown order an OrderNotFoundError", async () => {
    const order = await ordercast.createOrder();
    const bad = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: 'sk_' + 'z'.repeat(40) }, transport: 'sse', ...fast });
    const error = await bad.finished.catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('unauthorized');
    const missing = trackOrder('ord_doesnotexist000000000000', {
      baseUrl: proxy.baseUrl,
      credentials: { secretKey: ordercast.secretKey },
      transport: 'sse',
      ...fast,
    });
    await expect(missing.finished).rejects.toBeInstanceOf(OrderNotFoundError);
  });

  it("takes the gateway's refusal of a bad key as an AuthError and stops", async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: 'sk_' + 'y'.repeat(40) }, transport: 'socket', ...fast });
    const error = await tracker.finished.catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('unauthorized');
  });

  it("takes the gateway's order_not_found as OrderNotFoundError", async () => {
    const tracker = trackOrder('ord_doesnotexist000000000000', {
      baseUrl: proxy.baseUrl,
      credentials: { secretKey: ordercast.secretKey },
      transport: 'socket',
      ...fast,
    });
    await expect(tracker.finished).rejects.toBeInstanceOf(OrderNotFoundError);
  });
});
