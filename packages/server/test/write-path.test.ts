import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import type { PostgresGroupCommitLog } from '../src/store/postgres-group-commit.js';
import type { SqliteOrderLog } from '../src/store/sqlite-order-log.js';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { eventually } from './helpers/webhook-receiver.js';
import { pingPongLifecycle as pingPong } from './helpers/ping-pong-lifecycle.js';

describe.each(testDialects)('the write path on %s', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    project = await server.createProject(pingPong);
  });
  afterAll(async () => server?.close());

  const create = async (body: Record<string, unknown> = {}) => {
    const res = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body });
    expect(res.status).toBe(201);
    return res.body;
  };
  const move = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    server.request('POST', `/api/v2/orders/${id}/status`, { key: project.secretKey, body, headers });

  it('answers each bad transition with its own 4xx, and none of them changes the outcome of the good ones sent with it', async () => {
    const orders = await Promise.all(Array.from({ length: 12 }, () => create()));
    const finished = orders[0];
    expect((await move(finished.id, { status: 'end' })).status).toBe(200);
    const requests: Array<{ id: string; body: Record<string, unknown>; expect: number; code?: string }> = [
      { id: finished.id, body: { status: 'ping' }, expect: 409, code: 'invalid_transition' }, // from a final status
      { id: orders[1].id, body: { status: 'ping' }, expect: 409, code: 'invalid_transition' }, // to the current status
      { id: orders[2].id, body: { status: 'nowhere' }, expect: 400, code: 'unknown_status' },
      { id: orders[3].id, body: { status: 'pong', expectedVersion: 7 }, expect: 409, code: 'version_conflict' },
      { id: 'ord_doesnotexist000000000000', body: { status: 'pong' }, expect: 404, code: 'order_not_found' },
      { id: orders[4].id, body: {}, expect: 400, code: 'validation_failed' },
      { id: orders[5].id, body: { status: 'pong', expectedVersion: 0 }, expect: 400, code: 'validation_failed' },
    ];
    // Good writes on the other orders, interleaved with the bad ones so they share batches.
    for (const order of orders.slice(6)) requests.push({ id: order.id, body: { status: 'pong', expectedVersion: 1 }, expect: 200 });
    const answers = await Promise.all(
      requests.map((r, i) => (i % 2 === 0 ? move(r.id, r.body) : new Promise((resolve) => setImmediate(resolve)).then(() => move(r.id, r.body)))),
    );
    answers.forEach((answer, i) => {
      expect(answer.status, JSON.stringify(requests[i])).toBe(requests[i]!.expect);
      if (requests[i]!.code) expect(answer.body.error.code).toBe(requests[i]!.code);
    });
    for (const order of orders.slice(6)) {
      const now = await server.request('GET', `/api/v2/orders/${order.id}`, { key: project.secretKey });
      expect(now.body).toMatchObject({ status: 'pong', version: 2 });
    }
    for (const order of orders.slice(1, 6)) {
      const now = await server.request('GET', `/api/v2/orders/${order.id}`, { key: project.secretKey });
      expect(now.body).toMatchObject({ status: 'ping', version: 1 });
    }
  });

  it('lets exactly one of 50 racing writers with the same expectedVersion win; the others get version_conflict', async () => {
    const order = await create();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => move(order.id, { status: i % 2 ? 'pong' : 'end', expectedVersion: 1 })));
    const won = answers.filter((a) => a.status === 200);
    expect(won).toHaveLength(1);
    for (const lost of answers.filter((a) => a.status !== 200)) {
      expect(lost.status).toBe(409);
      expect(lost.body.error.code).toBe('version_conflict');
      expect(lost.body.error.details).toMatchObject({ currentVersion: 2 });
    }
    const events = await server.request('GET', `/api/v2/orders/${order.id}/events`, { key: project.secretKey });
    expect(events.body.data.map((e: any) => e.version)).toEqual([1, 2]);
  });

  it('replays a retried transition under the same Idempotency-Key instead of refusing it, and refuses the key for another request', async () => {
    const order = await create();
    const first = await move(order.id, { status: 'pong', reason: 'paid' }, { 'idempotency-key': `retry-${order.id}` });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const retry = await move(order.id, { status: 'pong', reason: 'paid' }, { 'idempotency-key': `retry-${order.id}` });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    const without = await move(order.id, { status: 'pong', reason: 'paid' });
    expect(without.status).toBe(409);
    expect(without.body.error.code).toBe('invalid_transition');
    const reused = await move(order.id, { status: 'end' }, { 'idempotency-key': `retry-${order.id}` });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    const events = await server.request('GET', `/api/v2/orders/${order.id}/events`, { key: project.secretKey });
    expect(events.body.data.map((e: any) => e.version)).toEqual([1, 2]);
  });

  it('keeps the cost of a change flat with age: an order with 2,000 changes carries its latest 10, and the log pages through all of them', async () => {
    const order = await create({ userExternalId: 'veteran' });
    const sizes: number[] = [];
    // Written through the service, to keep the test quick; the HTTP route is a thin layer over it.
    for (let i = 1; i <= 2000; i++) {
      const answer = await server.app.orders.transition(project.project.id, order.id, { status: i % 2 ? 'pong' : 'ping', reason: `change ${i}` });
      if (i === 19 || i === 1999) sizes.push(JSON.stringify(answer.body).length);
    }
    const now = await server.request('GET', `/api/v2/orders/${order.id}`, { key: project.secretKey });
    expect(now.body.version).toBe(2001);
    expect(now.body.statusHistory.map((h: any) => h.version)).toEqual(Array.from({ length: 10 }, (_, i) => 1992 + i));
    // The 2,000th change's order is no bigger than the 20th's, but for the digits of larger numbers.
    expect(sizes[1]!).toBeLessThanOrEqual(sizes[0]! + 100);

    const versions: number[] = [];
    let afterVersion = 0;
    for (;;) {
      const page = await server.request('GET', `/api/v2/orders/${order.id}/events?afterVersion=${afterVersion}&limit=1000`, { key: project.secretKey });
      expect(page.status).toBe(200);
      versions.push(...page.body.data.map((e: any) => e.version));
      if (!page.body.hasMore) break;
      afterVersion = versions[versions.length - 1]!;
    }
    expect(versions).toEqual(Array.from({ length: 2001 }, (_, i) => i + 1));
    const bad = await server.request('GET', `/api/v2/orders/${order.id}/events?afterVersion=-1`, { key: project.secretKey });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  }, 120_000);

  it("hands each project a feed cursor of its own: another project's writes do not move it", async () => {
    const other = await server.createProject(pingPong, 'Another tenant');
    const latest = async () => (await server.request('GET', '/api/v2/events?after=latest', { key: project.secretKey })).body.nextCursor;
    const start = await latest();
    const first = await create();
    // On PostgreSQL the feed shows a commit once every older transaction of the cluster has
    // ended (another test file's may be open), so wait for it before taking the cursor.
    await eventually(
      async () => {
        const page = await server.request('GET', `/api/v2/events?after=${start}`, { key: project.secretKey });
        return page.body.data.some((e: any) => e.orderId === first.id) || undefined;
      },
      15_000,
      'the first order in the feed',
    );
    const before = await latest();
    for (let i = 0; i < 5; i++) expect((await server.request('POST', '/api/v2/orders', { key: other.secretKey, body: {} })).status).toBe(201);
    expect(await latest()).toBe(before);
    const mine = await create();
    const page = await server.request('GET', `/api/v2/events?after=${before}&waitForChange=10`, { key: project.secretKey });
    expect(page.body.data.map((e: any) => e.orderId)).toEqual([mine.id]);
    expect(page.body.data[0]).not.toHaveProperty('sequence');
    expect(page.body.nextCursor).not.toBe(before);
    // Sealed per project: opaque, refused by another project, and refused once altered.
    expect(before).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const foreign = await server.request('GET', `/api/v2/events?after=${before}`, { key: other.secretKey });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('invalid_cursor');
    const altered = `${before.slice(0, 5)}${before[5] === 'A' ? 'B' : 'A'}${before.slice(6)}`;
    const tampered = await server.request('GET', `/api/v2/events?after=${altered}`, { key: project.secretKey });
    expect(tampered.status).toBe(400);
    expect(tampered.body.error.code).toBe('invalid_cursor');
    const numeric = await server.request('GET', '/api/v2/events?after=12', { key: project.secretKey });
    expect(numeric.status).toBe(400);
  });

  it('commits writes that arrive together in one transaction, refusals included, with no transaction run again', async () => {
    const log = server.app.store.orderLog as SqliteOrderLog | PostgresGroupCommitLog;
    const orders = await Promise.all(Array.from({ length: 100 }, () => create()));
    const before = log.committedTransactions;
    // 10 in 100 refused, spread through the batch.
    const answers = await Promise.all(orders.map((order, i) => move(order.id, { status: i % 10 === 3 ? 'ping' : 'pong' })));
    const transactions = log.committedTransactions - before;
    expect(answers.filter((a) => a.status === 200)).toHaveLength(90);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(10);
    // However the requests were cut into batches, no batch ran twice: at most one transaction per 2 writes.
    expect(transactions).toBeGreaterThan(0);
    expect(transactions).toBeLessThanOrEqual(50);
    expect(log.isolatedReruns).toBe(0);
  });
});
