import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../src/domain/duration.js';
import { onrampLifecycle } from '../src/domain/lifecycle-presets.js';
import { Metrics } from '../src/metrics.js';
import { OrderTimingSweeper } from '../src/services/order-timing-sweeper.js';
import { CompiledQuery, sql } from 'kysely';
import { countStuckOrders, dueOrdersQuery } from '../src/store/repositories/order-deadlines.js';
import { registerStuckOrderGauges } from '../src/stuck-order-metrics.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { connectSocket, emitWithAck, waitFor } from './helpers/realtime.js';
import { RecordingEventSource } from './helpers/sse.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** new → paid → done: an order should be paid within 10 minutes, and done within 2 hours of that. */
const TIMED = {
  name: 'timed',
  statuses: ['new', 'paid', 'done', 'canceled'],
  initial: ['new'],
  final: ['done', 'canceled'],
  transitions: { new: ['paid', 'canceled'], paid: ['done', 'canceled'] },
  expectedWithin: { new: '10m', paid: '2h' },
};

describe('expectedWithin in a lifecycle', () => {
  it('reads "90s", "10m", "2h", "3d" and refuses 0, negative, over a year and "10 minutes"', () => {
    expect(parseDuration('90s')).toEqual({ ok: true, ms: 90_000 });
    expect(parseDuration('10m')).toEqual({ ok: true, ms: 10 * MINUTE });
    expect(parseDuration('2h')).toEqual({ ok: true, ms: 2 * HOUR });
    expect(parseDuration('3d')).toEqual({ ok: true, ms: 72 * HOUR });
    expect(parseDuration('365d')).toEqual({ ok: true, ms: 365 * 24 * HOUR });
    for (const bad of ['0m', '0', '-5m', '366d', '9000h', '10 minutes', '1.5h', '10M', '', 600]) expect(parseDuration(bad).ok, String(bad)).toBe(false);
  });

  it('gives the onramp preset a default for every non-final status', () => {
    expect(Object.keys(onrampLifecycle.expectedWithin).sort()).toEqual(onrampLifecycle.statuses.filter((s) => !onrampLifecycle.final.includes(s)).sort());
  });
});

describe.each(testDialects)('order timing on %s', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  let now = Date.now();
  let sweeper: OrderTimingSweeper;
  const key = () => project.secretKey;

  beforeAll(async () => {
    // The server's own sweeper is off: this one reads an injected clock, stepped by the tests.
    server = await startTestServer(dialect, { ORDERCAST_TIMING_SWEEP_MS: '0' });
    project = await server.createProject(TIMED, 'Timed');
    sweeper = new OrderTimingSweeper(server.app.store, server.app.orders, { intervalMs: 0, clock: { now: () => now }, batchSize: 3 });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function stuckEventsOf(orderId: string) {
    const events = (await server.request('GET', `/api/v2/orders/${orderId}/events`, { key: key() })).body.data as Array<{ type: string; version: number }>;
    return events.filter((e) => e.type === 'order.stuck');
  }

  it('a malformed expectedWithin is a 400 invalid_lifecycle naming each problem', async () => {
    const adminKey = (await server.app.adminKeys.create()).key;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ done: '10m' }, 'expectedWithin: "done" is final'],
      [{ new: '0m' }, 'expectedWithin.new "0m" is not a duration'],
      [{ new: '-5m' }, 'expectedWithin.new "-5m" is not a duration'],
      [{ new: '400d' }, 'longer than a year'],
      [{ new: '10 minutes' }, 'expectedWithin.new "10 minutes" is not a duration'],
      [{ nowhere: '10m' }, 'expectedWithin: "nowhere" is not in statuses'],
    ];
    for (const [expectedWithin, problem] of cases) {
      const res = await server.request('POST', '/api/v2/admin/projects', {
        key: adminKey,
        body: { name: 'Bad timing', lifecycle: { ...TIMED, expectedWithin } },
      });
      expect(res.status, JSON.stringify(expectedWithin)).toBe(400);
      expect(res.body.error.code).toBe('invalid_lifecycle');
      expect(res.body.error.details.problems.join('\n')).toContain(problem);
    }
    // A project's lifecycle cannot change after creation (so no status with stuck orders in it can be
    // removed): the admin API renames a project and nothing more.
    const res = await server.request('PATCH', `/api/v2/admin/projects/${project.project.id}`, {
      key: adminKey,
      body: { name: 'Timed', lifecycle: { ...TIMED, statuses: ['paid', 'done', 'canceled'] } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect((await server.request('GET', '/api/v2/project', { key: key() })).body.lifecycle.statuses).toEqual(TIMED.statuses);
  });

  it('an order carries expectedBy and an ETA along the happy path; the project shows expectedWithin', async () => {
    const created = (await server.request('POST', '/api/v2/orders', { key: key(), body: {} })).body;
    expect(created.expectedBy).toBe(new Date(Date.parse(created.createdAt) + 10 * MINUTE).toISOString());
    expect(created.eta).toBe(new Date(Date.parse(created.createdAt) + 10 * MINUTE + 2 * HOUR).toISOString());
    expect(created.stuck).toBe(false);
    const paid = (await server.request('POST', `/api/v2/orders/${created.id}/status`, { key: key(), body: { status: 'paid' } })).body;
    expect(paid.expectedBy).toBe(new Date(Date.parse(paid.updatedAt) + 2 * HOUR).toISOString());
    expect(paid.eta).toBe(paid.expectedBy);
    const done = (await server.request('POST', `/api/v2/orders/${created.id}/status`, { key: key(), body: { status: 'done' } })).body;
    expect(done).toMatchObject({ expectedBy: null, eta: null, stuck: false });
    const shown = (await server.request('GET', '/api/v2/project', { key: key() })).body;
    expect(shown.lifecycle.expectedWithin).toEqual({ new: '10m', paid: '2h' });
  });

  it('flags each order once per version whatever the clock does, lists it with ?stuck=true, and moving on clears it', async () => {
    now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await server.request('POST', '/api/v2/orders', { key: key(), body: { userExternalId: `u${i % 2}` } })).body.id);
    const feedStart = (await server.request('GET', '/api/v2/events?after=latest', { key: key() })).body.nextCursor;
    // A Socket.IO client and an SSE stream follow the first order, as a checkout page would.
    const socket = await connectSocket(server.baseUrl, { apiKey: key() });
    const socketUpdates: Array<{ version: number; order: { stuck: boolean } }> = [];
    socket.on('order:update', (update) => socketUpdates.push(update));
    await emitWithAck(socket, 'subscribe:order', { orderId: ids[0] });
    const sse = new RecordingEventSource(`${server.baseUrl}/api/v2/orders/${ids[0]}/stream`, { bearer: key() });
    await waitFor(() => sse.versions.includes(1), 'the stream to send the current order');

    expect(await sweeper.sweep()).toBe(0);
    // The clock jumps forward past the deadlines: every open order is flagged, once (pages of 3).
    now += 11 * MINUTE;
    expect(await sweeper.sweep()).toBe(7);
    expect(await sweeper.sweep()).toBe(0);
    const order = (await server.request('GET', `/api/v2/orders/${ids[0]}`, { key: key() })).body;
    expect(order).toMatchObject({ status: 'new', version: 2, stuck: true });
    await waitFor(() => socketUpdates.some((u) => u.version === 2) && sse.versions.includes(2), 'order.stuck on the socket and the stream');
    expect(socketUpdates.find((u) => u.version === 2)?.order.stuck).toBe(true);
    expect(sse.messages.find((m) => m.data.version === 2)?.data.order.stuck).toBe(true);
    socket.close();
    sse.close();
    // Set back an hour: nothing is flagged, nothing twice; right again: still once.
    now -= HOUR;
    expect(await sweeper.sweep()).toBe(0);
    now += HOUR;
    expect(await sweeper.sweep()).toBe(0);
    for (const id of ids) expect(await stuckEventsOf(id)).toEqual([expect.objectContaining({ type: 'order.stuck', version: 2 })]);

    // The events feed (what sockets, SSE and webhooks are fed from) carries every one of them.
    const feed = (await server.request('GET', `/api/v2/events?after=${feedStart}&limit=500`, { key: key() })).body.data as Array<{
      eventName: string;
      orderId: string;
      data: { stuck: boolean };
    }>;
    const stuckInFeed = feed.filter((e) => e.eventName === 'order.stuck');
    expect(stuckInFeed.map((e) => e.orderId).sort()).toEqual([...ids].sort());
    expect(stuckInFeed.every((e) => e.data.stuck)).toBe(true);

    // Listed, and combinable with the other filters.
    const stuckList = (await server.request('GET', '/api/v2/orders?stuck=true&limit=100', { key: key() })).body.data as Array<{ id: string }>;
    expect(stuckList.map((o) => o.id).sort()).toEqual([...ids].sort());
    const stuckOfU1 = (await server.request('GET', '/api/v2/orders?stuck=true&userExternalId=u1', { key: key() })).body.data as Array<{ id: string }>;
    expect(stuckOfU1.map((o) => o.id).sort()).toEqual(ids.filter((_, i) => i % 2 === 1).sort());

    // Moving on clears it and sets a new deadline, which is flagged once in its turn.
    const moved = (await server.request('POST', `/api/v2/orders/${ids[0]}/status`, { key: key(), body: { status: 'paid' } })).body;
    expect(moved).toMatchObject({ status: 'paid', version: 3, stuck: false });
    const stillStuck = (await server.request('GET', '/api/v2/orders?stuck=true&status=new&limit=100', { key: key() })).body.data as Array<{ id: string }>;
    expect(stillStuck.map((o) => o.id)).not.toContain(ids[0]);
    expect(stillStuck).toHaveLength(6);
    const notStuck = (await server.request('GET', '/api/v2/orders?stuck=false&status=paid', { key: key() })).body.data as Array<{ id: string }>;
    expect(notStuck.map((o) => o.id)).toContain(ids[0]);
    expect(await sweeper.sweep()).toBe(0);
    now = Date.parse(moved.expectedBy) + 1;
    expect(await sweeper.sweep()).toBe(1);
    expect(await stuckEventsOf(ids[0]!)).toEqual([
      expect.objectContaining({ type: 'order.stuck', version: 2 }),
      expect.objectContaining({ type: 'order.stuck', version: 4 }),
    ]);

    // /metrics: the total, and per project and status for a project listed in ORDERCAST_METRICS_PROJECTS.
    const scraped = await (await fetch(server.metricsUrl)).text();
    expect(scraped).toMatch(/^ordercast_orders_stuck 7$/m);
    expect(scraped).not.toContain('ordercast_project_orders_stuck{');
    const listed = new Metrics({ projects: [project.project.id] });
    registerStuckOrderGauges(listed, () => countStuckOrders(server.app.store.db));
    const perProject = await listed.registry.getSingleMetricAsString('ordercast_project_orders_stuck');
    expect(perProject).toContain(`ordercast_project_orders_stuck{project="${project.project.id}",status="new"} 6`);
    expect(perProject).toContain(`ordercast_project_orders_stuck{project="${project.project.id}",status="paid"} 1`);
  });

  it('the sweeper reads the due index in order: a range of orders_due, no scan of the open orders and no sort', async () => {
    const db = server.app.store.db;
    const compiled = dueOrdersQuery(db, new Date().toISOString(), 500).compile();
    if (dialect === 'sqlite') {
      const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
      const steps = plan.rows.map((r) => r.detail);
      expect(steps).toEqual([expect.stringMatching(/^SEARCH orders USING INDEX orders_due \(due_at<\?\)$/)]);
    } else {
      // A test table is small and has no statistics: with the planner told a scan (or a bitmap
      // of the whole range) costs the earth, the plan shows what the index can do alone.
      const plan = await db.connection().execute(async (connection) => {
        await sql`set enable_seqscan = off`.execute(connection);
        await sql`set enable_bitmapscan = off`.execute(connection);
        try {
          return await connection.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
        } finally {
          await sql`reset enable_seqscan`.execute(connection);
          await sql`reset enable_bitmapscan`.execute(connection);
        }
      });
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Index Scan using orders_due on orders/);
      expect(text).not.toMatch(/Sort|Seq Scan/);
    }
  });

  it('an event and an idempotent answer stored before order timing read as orders without a deadline', async () => {
    const feedStart = (await server.request('GET', '/api/v2/events?after=latest', { key: key() })).body.nextCursor;
    const headers = { 'idempotency-key': `old-${dialect}` };
    const created = (await server.request('POST', '/api/v2/orders', { key: key(), body: { externalId: `old-${dialect}` }, headers })).body;
    // As a release before migration 0014 wrote them: no expectedBy, eta or stuck in the stored JSON.
    const strip = (text: string) => {
      const { expectedBy: _e, eta: _t, stuck: _s, ...old } = JSON.parse(text);
      return JSON.stringify(old);
    };
    const db = server.app.store.db;
    const event = await db.selectFrom('order_events').select(['id', 'snapshot']).where('order_id', '=', created.id).executeTakeFirstOrThrow();
    await db
      .updateTable('order_events')
      .set({ snapshot: strip(event.snapshot) })
      .where('id', '=', event.id)
      .execute();
    const remembered = await db
      .selectFrom('idempotency_keys')
      .select(['key', 'response_body'])
      .where('key', '=', headers['idempotency-key'])
      .executeTakeFirstOrThrow();
    await db
      .updateTable('idempotency_keys')
      .set({ response_body: strip(remembered.response_body) })
      .where('key', '=', remembered.key)
      .execute();

    // On PostgreSQL the feed shows a commit once no older transaction is still open, so wait for it rather than read once.
    const feed = await server.request('GET', `/api/v2/events?after=${feedStart}&limit=500&waitForChange=20`, { key: key() });
    expect(feed.status).toBe(200);
    const stored = feed.body.data.find((e: { orderId: string }) => e.orderId === created.id);
    expect(stored, JSON.stringify(feed.body)).toBeDefined();
    expect(stored.data).toMatchObject({ expectedBy: null, eta: null, stuck: false });
    const replay = await server.request('POST', '/api/v2/orders', { key: key(), body: { externalId: `old-${dialect}` }, headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({ id: created.id, expectedBy: null, eta: null, stuck: false });
  });

  it('a bad stuck filter is a 400, never a 500', async () => {
    const res = await server.request('GET', '/api/v2/orders?stuck=maybe', { key: key() });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it('order.stuck is in the event catalogue, with a schema its example meets', async () => {
    const types = (await server.request('GET', '/api/v2/event-types', { key: key() })).body.data as Array<{ name: string; example: any; schema: any }>;
    const stuck = types.find((t) => t.name === 'order.stuck');
    expect(stuck).toBeDefined();
    expect(stuck!.example.data).toMatchObject({ stuck: true, status: 'new' });
    expect(stuck!.schema.properties.data.properties.status).toEqual({ enum: ['new', 'paid'] });
  });
});
