import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackOrder, type TransportName } from '../src/track.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { startSocketGatewayStandIn, type SocketGatewayStandIn } from './helpers/socket-gateway-stand-in.js';
import { waitUntil } from './helpers/wait.js';

const fast = { backoff: { baseMs: 20, capMs: 200 }, minIntervalMs: 50, socketConnectTimeoutMs: 1000 };

/**
 * trackOrder against a misbehaving gateway: faults the real one (track-order-gateway.test.ts)
 * does not produce, played by a Socket.IO server speaking the same protocol
 * (helpers/socket-gateway-stand-in.ts): repeated and stale updates, and silence.
 */
describe('trackOrder with a misbehaving Socket.IO gateway', () => {
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
});
