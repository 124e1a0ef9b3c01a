import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import type { PostgresGroupCommitLog } from '../src/store/postgres-group-commit.js';
import type { SqliteOrderLog } from '../src/store/sqlite-order-log.js';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { pingPongLifecycle as pingPong } from './helpers/ping-pong-lifecycle.js';

describe.each(testDialects)('POST /api/v2/orders/batch on %s', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  let other: CreatedProject;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    project = await server.createProject(pingPong);
    other = await server.createProject(pingPong, 'Another tenant');
  });
  afterAll(async () => server?.close());

  const batch = (items: unknown[], key = project.secretKey) => server.request('POST', '/api/v2/orders/batch', { key, body: { items } });
  const create = async (key = project.secretKey) => {
    const res = await server.request('POST', '/api/v2/orders', { key, body: {} });
    expect(res.status).toBe(201);
    return res.body;
  };
  const get = async (id: string) => (await server.request('GET', `/api/v2/orders/${id}`, { key: project.secretKey })).body;
  const transactions = () => (server.app.store.orderLog as SqliteOrderLog | PostgresGroupCommitLog).committedTransactions;
  /** Everything the project's log holds, as a count: a refused batch must leave it as it was. */
  const logSize = async () => {
    let count = 0;
    for (let cursor: string | undefined; ; ) {
      const page = await server.request('GET', `/api/v2/orders?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key: project.secretKey });
      for (const order of page.body.data) count += order.version;
      if (!page.body.hasMore) return count;
      cursor = page.body.nextCursor;
    }
  };

  it('answers each item in order as its single route would, in one transaction, and a bad item fails alone', async () => {
    const [a, b, c] = [await create(), await create(), await create()];
    const foreign = await create(other.secretKey);
    const before = transactions();
    const res = await batch([
      { kind: 'create', body: { externalId: 'batch-1', userExternalId: 'u-1' } },
      { kind: 'transition', orderId: a.id, body: { status: 'pong' } },
      { kind: 'transition', orderId: a.id, body: { status: 'ping', reason: 'second move of the same order' } },
      { kind: 'transition', orderId: b.id, body: { status: 'ping' } },
      { kind: 'transition', orderId: b.id, body: { status: 'nowhere' } },
      { kind: 'transition', orderId: c.id, body: {} },
      { kind: 'transition', orderId: foreign.id, body: { status: 'pong' } },
      { kind: 'create', body: { externalId: 'batch-1' } },
      { kind: 'transition', body: { status: 'pong' } },
      { kind: 'transition', orderId: c.id, body: { status: 'end' } },
    ]);
    expect(res.status).toBe(200);
    // The whole request was one append batch: one transaction, whatever its items answered.
    expect(transactions() - before).toBe(1);
    const results = res.body.data;
    expect(results.map((r: any) => r.status)).toEqual([201, 200, 200, 409, 400, 400, 404, 409, 400, 200]);
    expect(results.map((r: any) => r.body.error?.code)).toEqual([
      undefined,
      undefined,
      undefined,
      'invalid_transition',
      'unknown_status',
      'validation_failed',
      'order_not_found',
      'external_id_taken',
      'validation_failed',
      undefined,
    ]);
    // Two items on one order applied in their order.
    expect(results[1].body).toMatchObject({ id: a.id, status: 'pong', version: 2 });
    expect(results[2].body).toMatchObject({ id: a.id, status: 'ping', version: 3 });
    expect((await get(a.id)).statusHistory.map((h: any) => [h.status, h.version])).toEqual([
      ['ping', 1],
      ['pong', 2],
      ['ping', 3],
    ]);
    // The created order and the moved ones are what GET answers, and another project's order did not move.
    expect(await get(results[0].body.id)).toEqual(results[0].body);
    expect(await get(c.id)).toEqual(results[9].body);
    expect((await server.request('GET', `/api/v2/orders/${foreign.id}`, { key: other.secretKey })).body.version).toBe(1);
    // The error bodies are the single routes' own.
    const single = await server.request('POST', `/api/v2/orders/${b.id}/status`, { key: project.secretKey, body: { status: 'ping' } });
    expect(results[3].body).toEqual(single.body);
    const singleMissing = await server.request('POST', `/api/v2/orders/${c.id}/status`, { key: project.secretKey, body: {} });
    expect(results[5].body).toEqual(singleMissing.body);
  });

  it('replays items by their own idempotency keys, in a batch or on the single route, and never applies one twice', async () => {
    const order = await create();
    const items = [
      { kind: 'create', idempotencyKey: 'batch-create-1', body: { userExternalId: 'u-2' } },
      { kind: 'transition', orderId: order.id, idempotencyKey: 'batch-move-1', body: { status: 'pong' } },
    ];
    const first = await batch(items);
    expect(first.body.data.map((r: any) => [r.status, r.replayed])).toEqual([
      [201, undefined],
      [200, undefined],
    ]);
    const again = await batch(items);
    expect(again.body.data.map((r: any) => [r.status, r.replayed])).toEqual([
      [201, true],
      [200, true],
    ]);
    expect(again.body.data.map((r: any) => r.body)).toEqual(first.body.data.map((r: any) => r.body));
    const single = await server.request('POST', `/api/v2/orders/${order.id}/status`, {
      key: project.secretKey,
      body: { status: 'pong' },
      headers: { 'idempotency-key': 'batch-move-1' },
    });
    expect(single.status).toBe(200);
    expect(single.headers.get('idempotent-replayed')).toBe('true');
    expect((await get(order.id)).version).toBe(2);
    // One key twice in one request for the same thing: the second item replays the first.
    const twice = await batch([
      { kind: 'transition', orderId: order.id, idempotencyKey: 'batch-move-2', body: { status: 'ping' } },
      { kind: 'transition', orderId: order.id, idempotencyKey: 'batch-move-2', body: { status: 'ping' } },
    ]);
    expect(twice.body.data.map((r: any) => [r.status, r.replayed, r.body.version])).toEqual([
      [200, undefined, 3],
      [200, true, 3],
    ]);
  });

  it('refuses the whole request with a stable code, writing nothing, for a list it cannot take', async () => {
    const order = await create();
    const move = { kind: 'transition', orderId: order.id, body: { status: 'pong' } };
    const size = await logSize();
    const refusals: Array<[string, () => Promise<{ status: number; body: any }>, number, string]> = [
      ['1,001 items', () => batch(Array.from({ length: 1001 }, () => move)), 400, 'validation_failed'],
      ['an empty list', () => batch([]), 400, 'validation_failed'],
      ['no list at all', () => server.request('POST', '/api/v2/orders/batch', { key: project.secretKey, body: {} }), 400, 'validation_failed'],
      ['an item of an unknown kind', () => batch([move, { kind: 'delete', orderId: order.id, body: {} }]), 400, 'validation_failed'],
      [
        'one idempotency key for two different requests',
        () =>
          batch([
            { ...move, idempotencyKey: 'same-key' },
            { kind: 'transition', orderId: order.id, idempotencyKey: 'same-key', body: { status: 'end' } },
          ]),
        409,
        'idempotency_key_reused',
      ],
      [
        'a body over the size limit',
        () => batch([move, ...Array.from({ length: 999 }, () => ({ kind: 'create', body: { metadata: { filler: 'x'.repeat(2000) } } }))]),
        413,
        'payload_too_large',
      ],
      ['a user token', async () => batch([move], 'not-a-key'), 401, 'unauthorized'],
    ];
    for (const [what, send, status, code] of refusals) {
      const res = await send();
      expect([what, res.status, res.body?.error?.code]).toEqual([what, status, code]);
    }
    expect(await logSize()).toBe(size);
    expect((await get(order.id)).version).toBe(1);
  });
});
