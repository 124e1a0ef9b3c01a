import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, AuthError, OrderNotFoundError, TimeoutError, trackOrder, type TransportName } from '../src/track.js';
import type { Order } from '../src/types.js';
import type { VisibilitySource } from '../src/visibility.js';
import { startFaultyProxy } from './helpers/faulty-proxy.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { pause, waitUntil } from './helpers/wait.js';

const fast = { backoff: { baseMs: 20, capMs: 200 }, minIntervalMs: 50, socketConnectTimeoutMs: 1000 };

describe('trackOrder against a real server (no socket endpoint on this branch)', () => {
  let ordercast: Ordercast;
  beforeAll(async () => {
    ordercast = await startOrdercast();
  });
  afterAll(() => ordercast?.close());

  const drive = async (orderId: string, statuses: string[], gapMs = 150) => {
    for (const status of statuses) {
      await pause(gapMs);
      await ordercast.setStatus(orderId, status);
    }
  };

  it("transport 'poll': events, async iterator and finished all see the same ordered stream", async () => {
    const order = await ordercast.createOrder();
    const onUpdate: number[] = [];
    const tracker = trackOrder(order.id, {
      baseUrl: ordercast.baseUrl,
      credentials: { secretKey: ordercast.secretKey },
      transport: 'poll',
      onUpdate: (o) => onUpdate.push(o.version),
      ...fast,
    });
    const events: string[] = [];
    tracker.on('update', (o) => events.push(`update ${o.version} ${o.status}`));
    tracker.on('final', (o) => events.push(`final ${o.status}`));
    tracker.on('transport', (t) => events.push(`transport ${t}`));
    const iterated: string[] = [];
    const iterating = (async () => {
      for await (const update of tracker) iterated.push(update.status);
    })();
    void drive(order.id, ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']);
    const final = await tracker.finished;
    await iterating;
    expect(final.status).toBe('COMPLETED');
    expect(iterated).toEqual(['AWAITING_PAYMENT_FROM_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']);
    expect(onUpdate).toEqual([1, 2, 3, 4]);
    expect(events).toEqual([
      'transport poll',
      'update 1 AWAITING_PAYMENT_FROM_USER',
      'update 2 PROCESSING',
      'update 3 PENDING_DELIVERY',
      'update 4 COMPLETED',
      'final COMPLETED',
    ]);
    expect(tracker.done).toBe(true);
    expect(tracker.transport).toBe('none');
  });

  it("transport 'auto' falls back to polling by itself when the socket endpoint is missing, then stops everything at the final status", async () => {
    const order = await ordercast.createOrder({ status: 'PROCESSING', userExternalId: 'user-a' });
    const proxy = await startFaultyProxy(ordercast.baseUrl, () => 'forward');
    try {
      const token = await ordercast.userToken('user-a');
      const transports: TransportName[] = [];
      const versions: number[] = [];
      const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { publishableKey: ordercast.publishableKey, token }, ...fast });
      tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
      // The current state comes at once, from the first REST read, before any transport is up.
      await waitUntil(() => versions.length === 1, 10_000, 'the first snapshot');
      expect(tracker.transport).toBe('none');
      // Changes made once the stream has stalled (a stream that ended at the final status would come through whole).
      await waitUntil(() => tracker.transport === 'poll', 10_000, 'polling');
      await drive(order.id, ['PENDING_DELIVERY', 'COMPLETED']);
      const final = await tracker.finished;
      expect(final.status).toBe('COMPLETED');
      expect(versions).toEqual([1, 2, 3]);
      expect(transports).toEqual(['poll']);
      // It did try the socket first.
      expect(proxy.requests.some((path) => path.startsWith('/socket.io/'))).toBe(true);
      // Then SSE, once: this proxy buffers whole responses, so the stream stalled and was not tried again.
      expect(proxy.requests.filter((path) => path.endsWith('/stream'))).toHaveLength(1);
      // And after the final status: no socket reconnects, no polls.
      const asked = proxy.requests.length;
      await pause(2500);
      expect(proxy.requests.length).toBe(asked);
    } finally {
      await proxy.close();
    }
  });

  it("transport 'auto' against a server without the stream route: asks for the stream once, then polls to the final status", async () => {
    const order = await ordercast.createOrder();
    // An older server: its 404 for a route it does not have.
    const noStreams = {
      status: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: { code: 'route_not_found', message: 'No route GET …/stream' } }),
    };
    const proxy = await startFaultyProxy(ordercast.baseUrl, (_n, path) => (path.endsWith('/stream') ? noStreams : 'forward'));
    try {
      const transports: TransportName[] = [];
      const versions: number[] = [];
      const tracker = trackOrder(order.id, { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
      tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
      await waitUntil(() => tracker.transport === 'poll', 10_000, 'polling');
      await drive(order.id, ['PROCESSING', 'COMPLETED']);
      expect((await tracker.finished).status).toBe('COMPLETED');
      expect(versions).toEqual([1, 2, 3]);
      expect(transports).toEqual(['poll']);
      expect(proxy.requests.filter((path) => path.endsWith('/stream'))).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("transport 'auto' reaches the final status with every version once when the network drops every other request", async () => {
    const order = await ordercast.createOrder();
    const proxy = await startFaultyProxy(ordercast.baseUrl, (n) => (n % 2 === 0 ? 'drop' : 'forward'));
    try {
      const versions: number[] = [];
      const tracker = trackOrder(order.id, {
        baseUrl: proxy.baseUrl,
        credentials: { secretKey: ordercast.secretKey },
        onUpdate: (o) => versions.push(o.version),
        ...fast,
      });
      await waitUntil(() => versions.length === 1, 10_000, 'the first snapshot');
      await drive(order.id, ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'], 300);
      expect((await tracker.finished).status).toBe('COMPLETED');
      expect(versions).toEqual([1, 2, 3, 4]);
    } finally {
      await proxy.close();
    }
  });

  it('reads the current order at once when tracking an order that is already final', async () => {
    const order = await ordercast.createOrder();
    await ordercast.setStatus(order.id, 'CANCELLED');
    const tracker = trackOrder(order.id, { baseUrl: ordercast.baseUrl, credentials: { secretKey: ordercast.secretKey }, transport: 'poll' });
    const updates: Order[] = [];
    for await (const update of tracker) updates.push(update);
    expect(updates.map((o) => o.status)).toEqual(['CANCELLED']);
  });

  it('rejects with OrderNotFoundError for an unknown order, without a retry loop', async () => {
    const proxy = await startFaultyProxy(ordercast.baseUrl, () => 'forward');
    try {
      const errors: Error[] = [];
      const tracker = trackOrder('ord_doesnotexist000000000000', { baseUrl: proxy.baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
      tracker.on('error', (e) => errors.push(e));
      const error = await tracker.finished.catch((e) => e);
      expect(error).toBeInstanceOf(OrderNotFoundError);
      expect(errors).toEqual([error]);
      await pause(1500);
      expect(proxy.requests.filter((path) => path.startsWith('/api/'))).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('stops with AuthError when the user token has expired', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'user-b' });
    const token = await ordercast.userToken('user-b', -5);
    const tracker = trackOrder(order.id, { baseUrl: ordercast.baseUrl, credentials: { publishableKey: ordercast.publishableKey, token }, ...fast });
    const error = await tracker.finished.catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('token_expired');
    const iterator = tracker[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBe(error);
  });

  it('rejects with TimeoutError at maxWaitMs, emits error, and ends the iterator with it', async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: ordercast.baseUrl, credentials: { secretKey: ordercast.secretKey }, maxWaitMs: 800, ...fast });
    const emitted: Error[] = [];
    tracker.on('error', (e) => emitted.push(e));
    const seen: number[] = [];
    const error = await (async () => {
      for await (const update of tracker) seen.push(update.version);
    })().catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(emitted).toEqual([error]);
    expect(seen).toEqual([1]);
    await expect(tracker.finished).rejects.toBe(error);
  });

  it('rejects with AbortError on abort, without an error event, and breaking out of a loop stops tracking', async () => {
    const order = await ordercast.createOrder();
    const controller = new AbortController();
    const tracker = trackOrder(order.id, {
      baseUrl: ordercast.baseUrl,
      credentials: { secretKey: ordercast.secretKey },
      signal: controller.signal,
      transport: 'poll',
    });
    const emitted: Error[] = [];
    tracker.on('error', (e) => emitted.push(e));
    await waitUntil(() => tracker.order !== undefined);
    controller.abort();
    await expect(tracker.finished).rejects.toBeInstanceOf(AbortError);
    expect(emitted).toEqual([]);

    const second = trackOrder(order.id, { baseUrl: ordercast.baseUrl, credentials: { secretKey: ordercast.secretKey }, transport: 'poll' });
    for await (const update of second) {
      expect(update.version).toBe(1);
      break;
    }
    await expect(second.finished).rejects.toBeInstanceOf(AbortError);
  });

  it('in a hidden tab checks rarely, and at once when the tab becomes visible', async () => {
    const order = await ordercast.createOrder();
    // Stands in for the browser's document: the same two members the SDK reads.
    const page = new EventTarget();
    let hidden = true;
    const visibility: VisibilitySource = {
      isHidden: () => hidden,
      onVisible(listener) {
        const handler = () => !hidden && listener();
        page.addEventListener('visibilitychange', handler);
        return () => page.removeEventListener('visibilitychange', handler);
      },
    };
    const proxy = await startFaultyProxy(ordercast.baseUrl, () => 'forward');
    try {
      const statuses: string[] = [];
      const tracker = trackOrder(order.id, {
        baseUrl: proxy.baseUrl,
        credentials: { secretKey: ordercast.secretKey },
        transport: 'poll',
        visibility,
        hiddenIntervalMs: 60_000,
      });
      tracker.on('update', (o) => statuses.push(o.status));
      await waitUntil(() => statuses.length === 1);
      await ordercast.setStatus(order.id, 'PAYMENT_DONE_MARKED_BY_USER');
      await ordercast.setStatus(order.id, 'PROCESSING');
      await pause(1000);
      expect(statuses).toEqual(['AWAITING_PAYMENT_FROM_USER']);
      expect(proxy.requests.every((path) => !path.includes('waitForChange'))).toBe(true);

      hidden = false;
      page.dispatchEvent(new Event('visibilitychange'));
      await waitUntil(() => statuses.length === 3, 3000, 'the check on becoming visible');
      // One answer carried two changes; the step in between was rebuilt from the order's history.
      expect(statuses).toEqual(['AWAITING_PAYMENT_FROM_USER', 'PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING']);
      await ordercast.setStatus(order.id, 'COMPLETED');
      expect((await tracker.finished).status).toBe('COMPLETED');
      expect(proxy.requests.some((path) => path.includes('waitForChange'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
