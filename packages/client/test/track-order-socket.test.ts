import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, OrderNotFoundError, trackOrder, type TransportName } from '../src/track.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { startSocketGatewayStandIn, type SocketGatewayStandIn } from './helpers/socket-gateway-stand-in.js';
import { pause, waitUntil } from './helpers/wait.js';

const fast = { backoff: { baseMs: 20, capMs: 200 }, minIntervalMs: 50, socketConnectTimeoutMs: 1000 };

/**
 * trackOrder over a real Socket.IO connection. The gateway is a stand-in speaking the issue-4
 * protocol (see helpers/socket-gateway-stand-in.ts) until the `realtime` branch merges.
 */
describe('trackOrder over the socket, with polling when the socket is unreachable', () => {
  let ordercast: Ordercast;
  let gateway: SocketGatewayStandIn;
  beforeAll(async () => {
    ordercast = await startOrdercast();
    gateway = await startSocketGatewayStandIn(ordercast, { echo: true });
  });
  afterAll(async () => {
    await gateway?.close();
    await ordercast?.close();
  });

  it("transport 'socket': updates arrive live, once each and in order, though the gateway sends repeats and stale copies", async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: gateway.baseUrl, credentials: { secretKey: ordercast.secretKey }, transport: 'socket', ...fast });
    const transports: TransportName[] = [];
    const versions: number[] = [];
    tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
    await waitUntil(() => tracker.transport === 'socket', 10_000, 'the socket subscription');
    const polledBefore = gateway.proxy.requests.filter((p) => p.startsWith('/api/')).length;
    for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) await ordercast.setStatus(order.id, status);
    const final = await tracker.finished;
    expect(final.status).toBe('COMPLETED');
    expect(versions).toEqual([1, 2, 3, 4]);
    expect(transports).toEqual(['socket']);
    expect(gateway.proxy.requests.filter((p) => p.startsWith('/api/')).length).toBe(polledBefore);
  });

  it("transport 'auto': when the socket becomes unreachable mid-order, polling takes over with no missed or repeated version, and the socket takes back over when it returns", async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: gateway.baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
    const transports: TransportName[] = [];
    const versions: number[] = [];
    tracker.on('transport', (t) => transports.push(t)).on('update', (o) => versions.push(o.version));
    await waitUntil(() => tracker.transport === 'socket', 10_000, 'the socket subscription');
    await ordercast.setStatus(order.id, 'PAYMENT_DONE_MARKED_BY_USER');
    await waitUntil(() => versions.length === 2, 5000, 'version 2 over the socket');

    gateway.makeUnreachable();
    await waitUntil(() => tracker.transport === 'poll', 10_000, 'the fallback to polling');
    await ordercast.setStatus(order.id, 'PROCESSING');
    await waitUntil(() => versions.length === 3, 5000, 'version 3 by polling');

    gateway.makeReachable();
    await waitUntil(() => tracker.transport === 'socket', 15_000, 'the socket coming back');
    await ordercast.setStatus(order.id, 'PENDING_DELIVERY');
    await ordercast.setStatus(order.id, 'COMPLETED');
    const final = await tracker.finished;
    expect(final.status).toBe('COMPLETED');
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect(transports).toEqual(['socket', 'poll', 'socket']);
  });

  it("transport 'auto': a gateway that connects but never acknowledges counts as silent, and polling takes over", async () => {
    gateway.setMute(true);
    try {
      const order = await ordercast.createOrder();
      const tracker = trackOrder(order.id, { baseUrl: gateway.baseUrl, credentials: { secretKey: ordercast.secretKey }, ...fast });
      const transports: TransportName[] = [];
      tracker.on('transport', (t) => transports.push(t));
      await waitUntil(() => tracker.transport === 'poll', 10_000, 'the fallback to polling');
      await ordercast.setStatus(order.id, 'CANCELLED');
      expect((await tracker.finished).status).toBe('CANCELLED');
      expect(transports).toEqual(['poll']);
    } finally {
      gateway.setMute(false);
    }
  });

  it('takes a refused socket handshake as an AuthError and stops', async () => {
    const order = await ordercast.createOrder();
    const tracker = trackOrder(order.id, { baseUrl: gateway.baseUrl, credentials: { secretKey: 'sk_' + 'y'.repeat(40) }, transport: 'socket', ...fast });
    const error = await tracker.finished.catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('unauthorized');
  });

  it('takes an order_not_found acknowledgement as OrderNotFoundError', async () => {
    const tracker = trackOrder('ord_doesnotexist000000000000', { baseUrl: gateway.baseUrl, credentials: { secretKey: ordercast.secretKey }, transport: 'socket', ...fast });
    await expect(tracker.finished).rejects.toBeInstanceOf(OrderNotFoundError);
    await pause(100);
  });
});
