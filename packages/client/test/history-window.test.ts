import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollOrder } from '../src/poll-order.js';
import type { Order } from '../src/types.js';
import { VersionGate } from '../src/version-gate.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { waitUntil } from './helpers/wait.js';

/**
 * An order carries only its latest 10 changes in `statusHistory`. A client that missed
 * more than that (asleep, offline, a slow poll) reads the rest from the order's events,
 * so it still sees every version once and in order.
 */
describe('versions older than the history window', () => {
  let ordercast: Ordercast;
  let loopSecret: string;
  beforeAll(async () => {
    ordercast = await startOrdercast();
    const loop = await ordercast.server.createProject({
      name: 'loop',
      statuses: ['a', 'b', 'end'],
      initial: ['a'],
      final: ['end'],
      transitions: { a: ['b', 'end'], b: ['a', 'end'] },
    });
    loopSecret = loop.secretKey;
  });
  afterAll(async () => ordercast?.close());

  it('VersionGate asks for exactly the versions the history does not cover', () => {
    const at = (version: number): Order => ({
      id: 'ord_1',
      object: 'order',
      projectId: 'p',
      externalId: null,
      userExternalId: null,
      amount: null,
      currency: null,
      metadata: {},
      status: `S${version}`,
      version,
      final: false,
      expectedBy: null,
      eta: null,
      stuck: false,
      createdAt: 't',
      updatedAt: `t${version}`,
      statusHistory: Array.from({ length: Math.min(10, version) }, (_, i) => ({
        status: `S${version - i}`,
        reason: null,
        at: `t${version - i}`,
        version: version - i,
      })).reverse(),
    });
    const gate = new VersionGate();
    gate.admit(at(2));
    expect(gate.missing(at(8))).toBeUndefined();
    expect(gate.missing(at(30))).toEqual({ afterVersion: 2, beforeVersion: 21 });
    const earlier = Array.from({ length: 18 }, (_, i) => ({ status: `S${i + 3}`, reason: null, at: `t${i + 3}`, version: i + 3 }));
    expect(gate.admit(at(30), earlier).map((o) => o.version)).toEqual(Array.from({ length: 28 }, (_, i) => i + 3));
  });

  it('pollOrder delivers all 27 versions of an order that moved 26 times between two polls', async () => {
    const created = await ordercast.server.request('POST', '/api/v2/orders', { key: loopSecret, body: {} });
    const orderId = created.body.id as string;
    let orderRequests = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The second poll is held back until the order has moved on far past the history window.
    const slowFetch: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.includes(`/orders/${orderId}`) && !url.includes('/events') && ++orderRequests === 2) await held;
      return fetch(input, init);
    };
    const versions: number[] = [];
    const done = pollOrder(orderId, {
      baseUrl: ordercast.baseUrl,
      credentials: { secretKey: loopSecret },
      fetch: slowFetch,
      minIntervalMs: 10,
      onUpdate: (o) => versions.push(o.version),
    });
    await waitUntil(() => orderRequests === 2, 10_000, 'the second poll');
    for (let i = 0; i < 25; i++) {
      const moved = await ordercast.server.request('POST', `/api/v2/orders/${orderId}/status`, { key: loopSecret, body: { status: i % 2 ? 'a' : 'b' } });
      expect(moved.status).toBe(200);
    }
    await ordercast.server.request('POST', `/api/v2/orders/${orderId}/status`, { key: loopSecret, body: { status: 'end' } });
    release();
    const final = await done;
    expect(final.version).toBe(27);
    expect(versions).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
  });
});
