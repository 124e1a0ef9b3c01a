import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderEvent } from '../src/domain/order.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { databaseUrlForTests } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * On PostgreSQL a transaction can take a lower seq and commit after one with a higher
 * seq. A follower that had moved past the higher one would never see the lower one;
 * ours reads in commit order, so every follower gets both.
 */
describe.skipIf(!databaseUrlForTests())('the log follower on PostgreSQL', () => {
  let server: TestServer;
  let project: CreatedProject;
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    server = await startTestServer('postgres', { ORDERCAST_EVENT_POLL_MS: '50' });
    project = await server.createProject('store');
  });
  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => {});
    await server?.close();
  });

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    clients.push(client);
    return client;
  }

  async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('delivers events whose transactions commit out of seq order to the follower and to GET /events, each once and in commit order', async () => {
    const seen: OrderEvent[] = [];
    server.app.follower.subscribe((event) => seen.push(event));
    const created = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: {} });
    const order = created.body;
    await until(() => seen.some((e) => e.orderId === order.id), 'the follower to pass the creation');
    seen.length = 0;
    const start = await server.request('GET', '/api/v2/events?after=latest', { key: project.secretKey });

    const insert = (client: pg.Client, id: string, version: number) =>
      client.query(
        `insert into order_events (id, project_id, order_id, type, event_name, from_status, to_status, reason, version, user_external_id, user_offset, snapshot, created_at)
         values ($1, $2, $3, 'order.status_changed', 'order_paid', 'new', 'paid', null, $4, null, null, $5, $6) returning seq`,
        [id, project.project.id, order.id, version, JSON.stringify({ ...order, version }), new Date().toISOString()],
      );
    const [early, late, third] = [await connect(), await connect(), await connect()];
    // `early` takes the lower seq, `late` the higher one and commits first.
    await early.query('begin');
    const earlySeq = (await insert(early, 'evt_early', 2)).rows[0].seq;
    await late.query('begin');
    const lateSeq = (await insert(late, 'evt_late', 3)).rows[0].seq;
    expect(Number(lateSeq)).toBeGreaterThan(Number(earlySeq));
    await late.query('commit');
    // A third transaction that started before both took its id first but writes last.
    await third.query('begin');
    await third.query('select pg_current_xact_id()');
    await server.app.follower.catchUp();
    await early.query('commit');
    await insert(third, 'evt_third', 4);
    await third.query('commit');

    await until(async () => {
      await server.app.follower.catchUp();
      return seen.length >= 3;
    }, 'all three events at the follower');
    expect(seen.map((e) => e.id).sort()).toEqual(['evt_early', 'evt_late', 'evt_third']);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);

    const ids: string[] = [];
    let after = start.body.nextCursor as string;
    for (let i = 0; i < 5 && ids.length < 3; i++) {
      const page = await server.request('GET', `/api/v2/events?after=${after}&limit=1`, { key: project.secretKey });
      expect(page.status).toBe(200);
      ids.push(...page.body.data.map((e: any) => e.id));
      after = page.body.nextCursor;
    }
    expect(ids).toEqual(seen.map((e) => e.id));
  });
});

describe.skipIf(!databaseUrlForTests())('the log follower on PostgreSQL, with no timer', () => {
  it('reads again after a hint, at growing intervals, until an unrelated transaction that held the event back has ended', async () => {
    const server = await startTestServer('postgres', { ORDERCAST_EVENT_POLL_MS: '0' });
    const holder = new pg.Client({ connectionString: server.databaseUrl });
    try {
      const project = await server.createProject('store');
      const created = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: {} });
      const seen: number[] = [];
      server.app.follower.subscribe((event) => event.orderId === created.body.id && seen.push(event.version));
      await server.app.follower.catchUp();
      // Another test file's open transaction on the same database can hold the creation back past catchUp: wait for it.
      const createdSeenBy = Date.now() + 10_000;
      while (!seen.includes(1) && Date.now() < createdSeenBy) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toEqual([1]);
      seen.length = 0;
      await holder.connect();
      // Takes a transaction id, so every commit after it stays below the readers' horizon until it ends.
      await holder.query('begin');
      await holder.query('select pg_current_xact_id()');
      const changed = await server.request('POST', `/api/v2/orders/${created.body.id}/status`, { key: project.secretKey, body: { status: 'paid' } });
      expect(changed.status).toBe(200);
      // Longer than the first settling reads (50 and 100 ms) wait; no hint and no timer comes after this.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(seen).toEqual([]);
      await holder.query('commit');
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toEqual([2]);
    } finally {
      await holder.end().catch(() => {});
      await server.close();
    }
  });
});
