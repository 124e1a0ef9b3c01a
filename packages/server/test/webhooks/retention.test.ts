import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { testDialects } from '../helpers/databases.js';
import { webhookFixtures } from '../helpers/webhook-fixtures.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { eventually } from '../helpers/webhook-receiver.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('retention settings', () => {
  it('has documented defaults, takes durations or off, and refuses anything else with a clear message', () => {
    expect(loadConfig({}, {}).retention).toEqual({ attemptBodies: 30 * DAY, deliveries: 90 * DAY, events: 0, interval: 10 * 60_000, batchSize: 100 });
    const set = loadConfig(
      {},
      { ORDERCAST_RETENTION_ATTEMPT_BODIES: 'off', ORDERCAST_RETENTION_DELIVERIES: '12h', ORDERCAST_RETENTION_EVENTS: '400d', ORDERCAST_RETENTION_BATCH: '50' },
    );
    expect(set.retention).toMatchObject({ attemptBodies: 0, deliveries: 12 * HOUR, events: 400 * DAY, batchSize: 50 });
    expect(() => loadConfig({}, { ORDERCAST_RETENTION_EVENTS: 'forever' })).toThrow(ConfigError);
    expect(() => loadConfig({}, { ORDERCAST_RETENTION_EVENTS: 'forever' })).toThrow(/ORDERCAST_RETENTION_EVENTS must be a duration/);
    expect(() => loadConfig({}, { ORDERCAST_RETENTION_BATCH: '0' })).toThrow(/ORDERCAST_RETENTION_BATCH must be a whole number from 1/);
  });
});

describe.each(testDialects)('retention (%s)', (dialect) => {
  const fixtures = webhookFixtures(dialect, {
    ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
    ORDERCAST_WEBHOOK_POLL_INTERVAL: '50ms',
    ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0',
    ORDERCAST_RETENTION_ATTEMPT_BODIES: '1h',
    ORDERCAST_RETENTION_DELIVERIES: '1h',
    ORDERCAST_RETENTION_EVENTS: '1h',
    // The test runs the passes itself, with a clock an hour ahead.
    ORDERCAST_RETENTION_INTERVAL: '1h',
    // Small batches, so a pass takes several.
    ORDERCAST_RETENTION_BATCH: '3',
  });

  it('prunes only what is old enough: attempt bodies, delivered deliveries, the events of quiet orders', async () => {
    const api = webhookApi(fixtures.server, await fixtures.server.createProject());
    const ok = await fixtures.receiver(() => ({ status: 200, body: '{"thanks":"for the order"}' }));
    const broken = await fixtures.receiver(() => ({ status: 500, body: '{"error":"kaput"}' }));
    await api.createEndpoint(ok.url, { enabledEvents: ['ORDER_CREATED', 'ORDER_COMPLETED'] });
    const failing = await api.createEndpoint(broken.url, { enabledEvents: ['ORDER_CREATED'] });

    // Before the cutoff: an order that finished, and one that will go on changing.
    const quiet = await api.createOrder({ status: 'PROCESSING' });
    await api.transition(quiet.id, 'COMPLETED');
    const active = await api.createOrder({ status: 'PROCESSING' });
    const settled = async (count: number) =>
      eventually(
        async () => {
          const list = await api.deliveries();
          return list.length === count && list.every((d) => d.status !== 'pending') ? list : undefined;
        },
        10_000,
        `${count} settled deliveries`,
      );
    const old = await settled(5);
    const oldFailed = old.find((d) => d.endpointId === failing.id && d.orderId === quiet.id)!;
    expect(oldFailed.status).toBe('failed');
    const feedBefore = (await api.request('GET', '/api/v2/events?limit=1')).body;

    await new Promise((resolve) => setTimeout(resolve, 30));
    const cutoff = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30));

    // After it: the active order moves on, a new order arrives.
    await api.transition(active.id, 'COMPLETED');
    const fresh = await api.createOrder();
    const all = await settled(8);

    const pass = await fixtures.server.app.retention.runOnce(cutoff + HOUR);
    console.log(`[retention ${dialect}] ${JSON.stringify(pass)}`);
    expect(pass.batches).toBeGreaterThan(3);

    // Deliveries that succeeded before the cutoff are gone; the failed one stays (it can be recovered), without its response body.
    const left = await api.deliveries();
    const oldSucceeded = old.filter((d) => d.status === 'succeeded').map((d) => d.id);
    expect(oldSucceeded.length).toBe(3);
    for (const id of oldSucceeded) expect((await api.request('GET', `/api/v2/webhook-deliveries/${id}`)).status).toBe(404);
    expect(left.map((d) => d.id).sort()).toEqual(
      all
        .filter((d) => !oldSucceeded.includes(d.id))
        .map((d) => d.id)
        .sort(),
    );
    const failedDetail = await api.delivery(oldFailed.id);
    expect(failedDetail.status).toBe('failed');
    expect(failedDetail.attempts).toHaveLength(1);
    expect(failedDetail.attempts[0]).toMatchObject({ statusCode: 500, responseBody: null, responseHeaders: null });
    // Newer attempts keep their bodies.
    const newer = left.find((d) => d.orderId === fresh.id && d.endpointId === failing.id)!;
    expect((await api.delivery(newer.id)).attempts[0].responseBody).toBe('{"error":"kaput"}');
    const newerOk = left.find((d) => d.orderId === fresh.id && d.endpointId !== failing.id)!;
    expect((await api.delivery(newerOk.id)).attempts[0].responseBody).toBe('{"thanks":"for the order"}');

    // The quiet order keeps its state; its history is gone whole. The active one keeps all of its.
    const quietOrder = await api.request('GET', `/api/v2/orders/${quiet.id}`);
    expect(quietOrder.body).toMatchObject({ status: 'COMPLETED', version: 2 });
    expect((await api.request('GET', `/api/v2/orders/${quiet.id}/events`)).body.data).toEqual([]);
    expect((await api.request('GET', `/api/v2/orders/${active.id}/events`)).body.data.map((e: any) => e.version)).toEqual([1, 2]);
    expect((await api.request('GET', `/api/v2/orders/${fresh.id}/events`)).body.data.map((e: any) => e.version)).toEqual([1]);

    // The feed reads on: from the start it begins at the oldest event left; an old cursor still works.
    // On PostgreSQL the feed shows a commit once every older transaction of the cluster has
    // ended, and another test file's may be open: wait for the newest event to show.
    const feed = await eventually(
      async () => {
        const page = (await api.request('GET', '/api/v2/events?limit=100')).body;
        return page.data.some((e: any) => e.orderId === fresh.id) ? page : undefined;
      },
      15_000,
      'the new order in the feed',
    );
    expect(feed.data.map((e: any) => `${e.orderId}:${e.version}`)).toEqual([`${active.id}:1`, `${active.id}:2`, `${fresh.id}:1`]);
    const resumed = await api.request('GET', `/api/v2/events?limit=100&after=${encodeURIComponent(feedBefore.nextCursor)}`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.data.map((e: any) => `${e.orderId}:${e.version}`)).toEqual([`${active.id}:1`, `${active.id}:2`, `${fresh.id}:1`]);

    // A second pass finds nothing more to do.
    const again = await fixtures.server.app.retention.runOnce(cutoff + HOUR);
    expect(again).toMatchObject({ attemptBodies: 0, deliveries: 0, events: 0 });
    // With the real clock, nothing is old enough.
    expect(await fixtures.server.app.retention.runOnce()).toMatchObject({ attemptBodies: 0, deliveries: 0, events: 0 });
  });
});
