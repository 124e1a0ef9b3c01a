import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { webhookApi } from './helpers/webhook-api.js';
import { eventually, startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const EMAIL = 'alice.personal@example.com';

describe.each(testDialects)('order expunge (%s)', (dialect) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_POLL_INTERVAL: '50ms' });
    // A receiver that echoes what it got: its answers are stored with the attempts.
    receiver = await startReceiver((request) => ({ status: 200, body: request.body }));
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  /** Every stored row that mentions the order, as text. */
  async function storedText(orderId: string): Promise<string> {
    const db = server.app.store.db;
    const deliveries = await db.selectFrom('webhook_deliveries').selectAll().where('order_id', '=', orderId).execute();
    return JSON.stringify([
      await db.selectFrom('orders').selectAll().where('id', '=', orderId).execute(),
      await db.selectFrom('order_events').selectAll().where('order_id', '=', orderId).execute(),
      deliveries,
      await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where(
          'delivery_id',
          'in',
          deliveries.map((d) => d.id),
        )
        .execute(),
      await db.selectFrom('idempotency_keys').selectAll().execute(),
    ]);
  }

  it('wipes userExternalId and metadata from the order, its events, its payloads and stored answers, and records it', async () => {
    const api = webhookApi(server, await server.createProject());
    await api.createEndpoint(receiver.url);
    const body = { status: 'PROCESSING', userExternalId: EMAIL, metadata: { email: EMAIL, cart: 'c-1' }, amount: '12.00', currency: 'EUR' };
    const created = await server.request('POST', '/api/v2/orders', { key: api.key, body, headers: { 'idempotency-key': 'create-alice' } });
    expect(created.status).toBe(201);
    const orderId = created.body.id as string;
    await api.transition(orderId, 'COMPLETED');
    await eventually(async () => {
      const list = await api.deliveries(`&orderId=${orderId}`);
      return list.length === 2 && list.every((d) => d.status === 'succeeded') ? list : undefined;
    });
    expect(await storedText(orderId)).toContain(EMAIL);

    const expunged = await api.request('POST', `/api/v2/orders/${orderId}/expunge`);
    expect(expunged.status).toBe(200);
    expect(expunged.body).toMatchObject({ object: 'order_expunge', orderId, events: 2, deliveries: 2 });
    expect(Date.parse(expunged.body.expungedAt)).toBeGreaterThan(Date.now() - 60_000);

    expect(await storedText(orderId)).not.toContain(EMAIL);
    // What the API shows: the order keeps everything else.
    const order = (await api.request('GET', `/api/v2/orders/${orderId}`)).body;
    expect(order).toMatchObject({ id: orderId, status: 'COMPLETED', version: 2, amount: '12.00', currency: 'EUR', userExternalId: null, metadata: {} });
    // On PostgreSQL the feed shows a commit once every older transaction of the cluster has
    // ended, and another test file's may still be open: wait for the order's two events.
    const feed = await eventually(
      async () => {
        const page = (await api.request('GET', '/api/v2/events?limit=100')).body;
        return page.data.filter((e: any) => e.orderId === orderId).length === 2 ? page : undefined;
      },
      15_000,
      "the order's two events in the feed",
    );
    expect(feed.data.filter((e: any) => e.orderId === orderId)).toHaveLength(2);
    expect(JSON.stringify(feed)).not.toContain(EMAIL);
    for (const d of await api.deliveries(`&orderId=${orderId}`)) {
      const detail = await api.delivery(d.id);
      expect(detail.payload.data).toMatchObject({ id: orderId, userExternalId: null, metadata: {} });
      expect(JSON.stringify(detail)).not.toContain(EMAIL);
    }
    // A retry of the creation replays the first answer, without the personal data.
    const replay = await server.request('POST', '/api/v2/orders', { key: api.key, body, headers: { 'idempotency-key': 'create-alice' } });
    expect(replay.body.id).toBe(orderId);
    expect(replay.text).not.toContain(EMAIL);

    // Recorded.
    const records = await server.app.store.db.selectFrom('order_expunges').selectAll().where('order_id', '=', orderId).execute();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ project_id: api.project.project.id, expunged_at: expunged.body.expungedAt });

    // Again: harmless, and recorded again.
    expect((await api.request('POST', `/api/v2/orders/${orderId}/expunge`)).status).toBe(200);
    // The order goes on working.
    const more = await api.createOrder({ userExternalId: 'bob' });
    expect((await api.request('GET', `/api/v2/orders/${more.id}`)).body.userExternalId).toBe('bob');
  });

  it("refuses another project's order, an unknown order and a user token, each with its code", async () => {
    const api = webhookApi(server, await server.createProject());
    const order = await api.createOrder({ userExternalId: 'carol', metadata: { note: 'keep me' } });
    const other = webhookApi(server, await server.createProject());
    const foreign = await other.request('POST', `/api/v2/orders/${order.id}/expunge`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('order_not_found');
    const unknown = await api.request('POST', '/api/v2/orders/ord_nope/expunge');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('order_not_found');
    const token = (await api.request('POST', '/api/v2/tokens', { userExternalId: 'carol' })).body.token;
    const asUser = await server.request('POST', `/api/v2/orders/${order.id}/expunge`, { key: token });
    expect(asUser.status).toBe(403);
    expect(asUser.body.error.code).toBe('forbidden');
    // Nothing was wiped by the refused calls.
    expect((await api.request('GET', `/api/v2/orders/${order.id}`)).body).toMatchObject({ userExternalId: 'carol', metadata: { note: 'keep me' } });
  });
});
