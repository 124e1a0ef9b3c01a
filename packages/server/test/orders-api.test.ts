import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type ApiResponse, type TestServer } from './helpers/test-server.js';
import { pingPongLifecycle } from './helpers/ping-pong-lifecycle.js';

function signToken(secret: string, claims: Record<string, unknown>, expiresAt: number) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expiresAt).sign(new TextEncoder().encode(secret));
}

describe.each(testDialects)('orders API on %s', (dialect) => {
  let server: TestServer;
  let onramp: CreatedProject;
  let store: CreatedProject;
  let other: CreatedProject;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    onramp = await server.createProject('onramp', 'Onramp merchant');
    store = await server.createProject('store', 'Game store');
    other = await server.createProject('onramp', 'Another merchant');
  });
  afterAll(async () => server?.close());

  const createOrder = (project: CreatedProject, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    server.request('POST', '/api/v2/orders', { key: project.secretKey, body, headers });
  const transition = (project: CreatedProject, id: string, body: Record<string, unknown>) =>
    server.request('POST', `/api/v2/orders/${id}/status`, { key: project.secretKey, body });

  describe('create and read', () => {
    it('creates an order in the first initial status, version 1, with its history', async () => {
      const res = await createOrder(onramp, { externalId: 'm-1', userExternalId: 'u-1', amount: '25.50', currency: 'eur', metadata: { cart: 'c-9' } });
      expect(res.status).toBe(201);
      expect(res.headers.get('etag')).toBe('"v1"');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toMatchObject({
        object: 'order',
        projectId: onramp.project.id,
        externalId: 'm-1',
        userExternalId: 'u-1',
        amount: '25.50',
        currency: 'EUR',
        metadata: { cart: 'c-9' },
        status: 'AWAITING_PAYMENT_FROM_USER',
        version: 1,
        final: false,
      });
      expect(res.body.id).toMatch(/^ord_[0-9A-Za-z]{24}$/);
      expect(res.body.statusHistory).toEqual([{ status: 'AWAITING_PAYMENT_FROM_USER', reason: null, at: res.body.createdAt, version: 1 }]);

      const read = await server.request('GET', `/api/v2/orders/${res.body.id}`, { key: onramp.secretKey });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
    });

    it('accepts another initial status and refuses a non-initial or unknown one', async () => {
      expect((await createOrder(onramp, { status: 'PROCESSING' })).body.status).toBe('PROCESSING');
      const notInitial = await createOrder(onramp, { status: 'COMPLETED' });
      expect(notInitial.status).toBe(400);
      expect(notInitial.body.error.code).toBe('invalid_initial_status');
      const unknown = await createOrder(onramp, { status: 'SHIPPED' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('unknown_status');
    });

    it('keeps externalId unique per project, not across projects', async () => {
      expect((await createOrder(onramp, { externalId: 'dup-1' })).status).toBe(201);
      const again = await createOrder(onramp, { externalId: 'dup-1' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('external_id_taken');
      expect((await createOrder(other, { externalId: 'dup-1' })).status).toBe(201);
    });

    it('answers an unknown order id with 404 order_not_found', async () => {
      const res = await server.request('GET', '/api/v2/orders/ord_doesnotexist', { key: onramp.secretKey });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'order_not_found', message: 'No order ord_doesnotexist', details: { orderId: 'ord_doesnotexist' } } });
    });

    it('serves the doubled /api/api/v2 prefix of reference document 000 as an alias', async () => {
      const { body: order } = await createOrder(onramp);
      const res = await server.request('GET', `/api/api/v2/orders/${order.id}`, { key: onramp.secretKey });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('AWAITING_PAYMENT_FROM_USER');
    });
  });

  describe('status changes', () => {
    it('follows the lifecycle, bumps the version and records the timeline', async () => {
      const { body: order } = await createOrder(onramp, { userExternalId: 'u-timeline' });
      const steps = ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'];
      for (const [i, status] of steps.entries()) {
        const res = await transition(onramp, order.id, { status, reason: `step ${i}` });
        expect(res.status).toBe(200);
        expect(res.body.status).toBe(status);
        expect(res.body.version).toBe(i + 2);
        expect(res.headers.get('etag')).toBe(`"v${i + 2}"`);
      }
      const final = await server.request('GET', `/api/v2/orders/${order.id}`, { key: onramp.secretKey });
      expect(final.body.final).toBe(true);
      expect(final.body.statusHistory.map((h: any) => [h.status, h.version, h.reason])).toEqual([
        ['AWAITING_PAYMENT_FROM_USER', 1, null],
        ['PROCESSING', 2, 'step 0'],
        ['PENDING_DELIVERY', 3, 'step 1'],
        ['COMPLETED', 4, 'step 2'],
      ]);
      const events = await server.request('GET', `/api/v2/orders/${order.id}/events`, { key: onramp.secretKey });
      expect(events.status).toBe(200);
      expect(events.body.data.map((e: any) => [e.type, e.eventName, e.fromStatus, e.toStatus, e.version])).toEqual([
        ['order.created', 'ORDER_CREATED', null, 'AWAITING_PAYMENT_FROM_USER', 1],
        ['order.status_changed', 'ORDER_PROCESSING', 'AWAITING_PAYMENT_FROM_USER', 'PROCESSING', 2],
        ['order.status_changed', 'ORDER_PENDING_DELIVERY', 'PROCESSING', 'PENDING_DELIVERY', 3],
        ['order.status_changed', 'ORDER_COMPLETED', 'PENDING_DELIVERY', 'COMPLETED', 4],
      ]);
    });

    it('uses the store lifecycle event names (order_<status>)', async () => {
      const { body: order } = await createOrder(store, { userExternalId: 'player-1' });
      expect(order.status).toBe('new');
      await transition(store, order.id, { status: 'paid' });
      const events = await server.request('GET', `/api/v2/orders/${order.id}/events`, { key: store.secretKey });
      expect(events.body.data.map((e: any) => e.eventName)).toEqual(['order_created', 'order_paid']);
    });

    it('refuses a transition the lifecycle does not allow with 409, naming the current and allowed statuses', async () => {
      const { body: order } = await createOrder(onramp);
      const res = await transition(onramp, order.id, { status: 'COMPLETED' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('invalid_transition');
      expect(res.body.error.details).toEqual({
        currentStatus: 'AWAITING_PAYMENT_FROM_USER',
        currentVersion: 1,
        requestedStatus: 'COMPLETED',
        allowedNextStatuses: ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'FAILED', 'CANCELLED'],
      });
    });

    it('refuses any transition out of a final status', async () => {
      const { body: order } = await createOrder(onramp, { status: 'PROCESSING' });
      expect((await transition(onramp, order.id, { status: 'CANCELLED' })).status).toBe(200);
      const res = await transition(onramp, order.id, { status: 'PROCESSING' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('invalid_transition');
      expect(res.body.error.message).toContain('"CANCELLED" is a final status');
      expect(res.body.error.details.allowedNextStatuses).toEqual([]);
    });

    it('refuses a status that is not in the lifecycle with 400 unknown_status', async () => {
      const { body: order } = await createOrder(onramp);
      const res = await transition(onramp, order.id, { status: 'SHIPPED' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('unknown_status');
      expect(res.body.error.details.statuses).toContain('PROCESSING');
    });

    it('refuses a stale expectedVersion with 409 version_conflict', async () => {
      const { body: order } = await createOrder(onramp);
      expect((await transition(onramp, order.id, { status: 'PROCESSING', expectedVersion: 1 })).status).toBe(200);
      const res = await transition(onramp, order.id, { status: 'COMPLETED', expectedVersion: 1 });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('version_conflict');
      expect(res.body.error.details).toEqual({ currentVersion: 2, currentStatus: 'PROCESSING' });
    });

    it('answers 404 for a transition of an unknown order', async () => {
      const res = await transition(onramp, 'ord_nope', { status: 'PROCESSING' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('order_not_found');
    });
  });

  describe('concurrent writers', () => {
    it('two writers racing from one version: exactly one wins, the other gets a 409', async () => {
      for (let round = 0; round < 5; round++) {
        const { body: order } = await createOrder(onramp);
        const [a, b] = await Promise.all([
          transition(onramp, order.id, { status: 'PROCESSING', expectedVersion: 1 }),
          transition(onramp, order.id, { status: 'CANCELLED', expectedVersion: 1 }),
        ]);
        expect([a.status, b.status].sort()).toEqual([200, 409]);
        const loser = a.status === 409 ? a : b;
        expect(loser.body.error.code).toBe('version_conflict');
        const winner = a.status === 200 ? a : b;
        const now = await server.request('GET', `/api/v2/orders/${order.id}`, { key: onramp.secretKey });
        expect(now.body.status).toBe(winner.body.status);
        expect(now.body.version).toBe(2);
      }
    });

    it('never loses an update: 40 racing writers on one order leave a gap-free history', async () => {
      const pingPong = await server.createProject(pingPongLifecycle);
      const { body: order } = await createOrder(pingPong, { userExternalId: 'racer' });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => transition(pingPong, order.id, { status: i % 2 === 0 ? 'pong' : 'ping' })));
      for (const r of results) expect([200, 409]).toContain(r.status);
      const wins = results.filter((r) => r.status === 200).length;
      expect(wins).toBeGreaterThan(0);
      const final = await server.request('GET', `/api/v2/orders/${order.id}`, { key: pingPong.secretKey });
      expect(final.body.version).toBe(1 + wins);
      // The order carries its latest 10 changes; the log has them all.
      const recent = Math.min(10, 1 + wins);
      expect(final.body.statusHistory.map((h: any) => h.version)).toEqual(Array.from({ length: recent }, (_, i) => 1 + wins - recent + 1 + i));
      const events = await server.request('GET', `/api/v2/orders/${order.id}/events`, { key: pingPong.secretKey });
      expect(events.body.data.map((e: any) => e.version)).toEqual(Array.from({ length: 1 + wins }, (_, i) => i + 1));
      // consecutive events chain: each starts where the previous ended
      for (let i = 1; i < events.body.data.length; i++) expect(events.body.data[i].fromStatus).toBe(events.body.data[i - 1].toStatus);
    });
  });

  describe('idempotency', () => {
    it('replays the first answer for the same key and body', async () => {
      const body = { externalId: 'idem-1', amount: 10 };
      const first = await createOrder(onramp, body, { 'idempotency-key': 'key-1' });
      const second = await createOrder(onramp, { amount: 10, externalId: 'idem-1' }, { 'idempotency-key': 'key-1' });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.body).toEqual(first.body);
      const list = await server.request('GET', '/api/v2/orders?externalId=idem-1', { key: onramp.secretKey });
      expect(list.body.data).toHaveLength(1);
    });

    it('refuses the same key with a different body with 409 idempotency_key_reused', async () => {
      await createOrder(onramp, { amount: '1.00' }, { 'idempotency-key': 'key-2' });
      const res = await createOrder(onramp, { amount: '2.00' }, { 'idempotency-key': 'key-2' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('idempotency_key_reused');
    });

    it('creates one order when requests with one key race', async () => {
      const results = await Promise.all(Array.from({ length: 6 }, () => createOrder(onramp, { externalId: 'race-1' }, { 'idempotency-key': 'key-race' })));
      for (const r of results) expect(r.status).toBe(201);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    });

    it('forgets a key after 24 hours: the same key then creates a new order', async () => {
      const first = await createOrder(onramp, { amount: '1.00' }, { 'idempotency-key': 'key-old' });
      await server.app.store.db
        .updateTable('idempotency_keys')
        .set({ created_at: new Date(Date.now() - 25 * 3600 * 1000).toISOString() })
        .where('key', '=', 'key-old')
        .execute();
      const later = await createOrder(onramp, { amount: '2.00' }, { 'idempotency-key': 'key-old' });
      expect(later.status).toBe(201);
      expect(later.headers.get('idempotent-replayed')).toBeNull();
      expect(later.body.id).not.toBe(first.body.id);
    });

    it('scopes keys per project', async () => {
      const a = await createOrder(onramp, {}, { 'idempotency-key': 'shared-key' });
      const b = await createOrder(other, {}, { 'idempotency-key': 'shared-key' });
      expect(a.body.id).not.toBe(b.body.id);
    });
  });

  describe('listing', () => {
    it('pages newest first with a cursor, without gaps or repeats, and filters', async () => {
      const lister = await server.createProject('store', 'Lister');
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) {
        const { body } = await createOrder(lister, { externalId: `l-${i}`, userExternalId: i % 2 === 0 ? 'even' : 'odd' });
        ids.push(body.id);
      }
      await transition(lister, ids[3]!, { status: 'paid' });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: any = await server.request('GET', `/api/v2/orders?limit=10${cursor ? `&cursor=${cursor}` : ''}`, { key: lister.secretKey });
        expect(res.status).toBe(200);
        seen.push(...res.body.data.map((o: any) => o.id));
        cursor = res.body.nextCursor;
        expect(res.body.hasMore).toBe(cursor !== null);
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].reverse());

      const even = await server.request('GET', '/api/v2/orders?userExternalId=even&limit=100', { key: lister.secretKey });
      expect(even.body.data).toHaveLength(13);
      const paid = await server.request('GET', '/api/v2/orders?status=paid', { key: lister.secretKey });
      expect(paid.body.data.map((o: any) => o.id)).toEqual([ids[3]]);
      const byRef = await server.request('GET', '/api/v2/orders?externalId=l-7', { key: lister.secretKey });
      expect(byRef.body.data.map((o: any) => o.id)).toEqual([ids[7]]);
      const future = await server.request('GET', `/api/v2/orders?createdAfter=${new Date(Date.now() + 60_000).toISOString()}`, { key: lister.secretKey });
      expect(future.body.data).toEqual([]);
      const past = await server.request('GET', '/api/v2/orders?createdBefore=2000-01-01', { key: lister.secretKey });
      expect(past.body.data).toEqual([]);
    });

    it('rejects a negative limit, a bad cursor, an unknown status filter and a bad date, each with its own code', async () => {
      const negative = await server.request('GET', '/api/v2/orders?limit=-1', { key: onramp.secretKey });
      expect(negative.status).toBe(400);
      expect(negative.body.error.code).toBe('validation_failed');
      expect(negative.body.error.details.errors[0].field).toBe('limit');
      const tooBig = await server.request('GET', '/api/v2/orders?limit=1000', { key: onramp.secretKey });
      expect(tooBig.body.error.code).toBe('validation_failed');
      const cursor = await server.request('GET', '/api/v2/orders?cursor=not-a-cursor', { key: onramp.secretKey });
      expect(cursor.status).toBe(400);
      expect(cursor.body.error.code).toBe('invalid_cursor');
      const status = await server.request('GET', '/api/v2/orders?status=SHIPPED', { key: onramp.secretKey });
      expect(status.status).toBe(400);
      expect(status.body.error.code).toBe('unknown_status');
      const date = await server.request('GET', '/api/v2/orders?createdAfter=yesterday', { key: onramp.secretKey });
      expect(date.status).toBe(400);
      expect(date.body.error.details.field).toBe('createdAfter');
    });
  });

  describe('bad requests', () => {
    it('malformed JSON is 400 invalid_json', async () => {
      const res = await server.request('POST', '/api/v2/orders', { key: onramp.secretKey, rawBody: '{"amount": ' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_json');
    });

    it('a 2 MB body is 413 payload_too_large, and the server keeps serving', async () => {
      const res = await server.request('POST', '/api/v2/orders', {
        key: onramp.secretKey,
        rawBody: JSON.stringify({ metadata: { blob: 'x'.repeat(2 * 1024 * 1024) } }),
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('payload_too_large');
      expect((await server.request('GET', '/healthz')).status).toBe(200);
    });

    it('wrong types and unknown fields are 400 validation_failed naming the field', async () => {
      const wrongType = await createOrder(onramp, { amount: true });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.error.code).toBe('validation_failed');
      const unknownField = await createOrder(onramp, { amout: '1.00' });
      expect(unknownField.body.error.code).toBe('validation_failed');
      expect(unknownField.body.error.message).toContain('unknown field "amout"');
      const badAmount = await createOrder(onramp, { amount: '-3' });
      expect(badAmount.body.error).toMatchObject({ code: 'validation_failed', details: { field: 'amount' } });
      const noStatus = await server.request('POST', '/api/v2/orders/ord_x/status', { key: onramp.secretKey, body: { reason: 'x' } });
      expect(noStatus.status).toBe(400);
      expect(noStatus.body.error.code).toBe('validation_failed');
      const numberStatus = await server.request('POST', '/api/v2/orders/ord_x/status', { key: onramp.secretKey, body: { status: 5 } });
      expect(numberStatus.body.error.code).toBe('validation_failed');
    });

    it('a body that is not JSON at all is 415 unsupported_media_type', async () => {
      const res = await server.request('POST', '/api/v2/orders', {
        key: onramp.secretKey,
        rawBody: 'amount=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('unsupported_media_type');
    });

    it('an unknown route is 404 route_not_found in the same error shape', async () => {
      const res = await server.request('GET', '/api/v2/nothing-here', { key: onramp.secretKey });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('route_not_found');
      expect(res.text).not.toMatch(/at .*\.js:\d+/);
    });
  });

  describe('authentication and isolation', () => {
    it('missing, malformed and unknown credentials are 401 unauthorized', async () => {
      for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer sk_not_a_real_key' }, { authorization: 'Bearer what' }] as Record<
        string,
        string
      >[]) {
        const res = await server.request('GET', '/api/v2/orders', { headers });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
      }
    });

    it("another project's secret key sees project A's order as not found (404, never 403)", async () => {
      const { body: order } = await createOrder(onramp);
      const read = await server.request('GET', `/api/v2/orders/${order.id}`, { key: other.secretKey });
      expect(read.status).toBe(404);
      expect(read.body.error.code).toBe('order_not_found');
      const write = await transition(other, order.id, { status: 'PROCESSING' });
      expect(write.status).toBe(404);
      const events = await server.request('GET', `/api/v2/orders/${order.id}/events`, { key: other.secretKey });
      expect(events.status).toBe(404);
      const list = await server.request('GET', `/api/v2/orders?limit=100`, { key: other.secretKey });
      expect(list.body.data.map((o: any) => o.id)).not.toContain(order.id);
    });

    it('a user token reads only its own orders; another user gets 404', async () => {
      const mine = (await createOrder(onramp, { userExternalId: 'alice' })).body;
      const theirs = (await createOrder(onramp, { userExternalId: 'bob' })).body;
      const issued = await server.request('POST', '/api/v2/tokens', { key: onramp.secretKey, body: { userExternalId: 'alice', expiresIn: 600 } });
      expect(issued.status).toBe(201);
      expect(issued.body).toMatchObject({ object: 'user_token', userExternalId: 'alice', projectId: onramp.project.id });
      const token = issued.body.token as string;
      expect((await server.request('GET', `/api/v2/orders/${mine.id}`, { key: token })).body.id).toBe(mine.id);
      const bobs = await server.request('GET', `/api/v2/orders/${theirs.id}`, { key: token });
      expect(bobs.status).toBe(404);
      expect(bobs.body.error.code).toBe('order_not_found');
      const list = await server.request('GET', '/api/v2/orders?limit=100', { key: token });
      expect(list.body.data.length).toBeGreaterThan(0);
      expect(list.body.data.every((o: any) => o.userExternalId === 'alice')).toBe(true);
      const write = await transition({ ...onramp, secretKey: token }, mine.id, { status: 'PROCESSING' });
      expect(write.status).toBe(403);
      expect(write.body.error.code).toBe('forbidden');
      const mint = await server.request('POST', '/api/v2/tokens', { key: token, body: { userExternalId: 'bob' } });
      expect(mint.status).toBe(403);
    });

    it('a publishable key alone reads nothing (403)', async () => {
      const { body: order } = await createOrder(onramp);
      const res = await server.request('GET', `/api/v2/orders/${order.id}`, { key: onramp.publishableKey });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    });

    it('a forged JWT is 401 invalid_token and an expired one is 401 token_expired', async () => {
      const { body: order } = await createOrder(onramp, { userExternalId: 'carol' });
      const now = Math.floor(Date.now() / 1000);
      const forged = await signToken('tks_not_the_project_secret_at_all_000000000000000', { pid: onramp.project.id, sub: 'carol' }, now + 600);
      const forgedRes = await server.request('GET', `/api/v2/orders/${order.id}`, { key: forged });
      expect(forgedRes.status).toBe(401);
      expect(forgedRes.body.error.code).toBe('invalid_token');
      const expired = await signToken(onramp.tokenSecret, { pid: onramp.project.id, sub: 'carol' }, now - 60);
      const expiredRes = await server.request('GET', `/api/v2/orders/${order.id}`, { key: expired });
      expect(expiredRes.status).toBe(401);
      expect(expiredRes.body.error.code).toBe('token_expired');
      const merchantSigned = await signToken(onramp.tokenSecret, { pid: onramp.project.id, sub: 'carol' }, now + 600);
      expect((await server.request('GET', `/api/v2/orders/${order.id}`, { key: merchantSigned })).status).toBe(200);
      const otherProjectsToken = await signToken(onramp.tokenSecret, { pid: other.project.id, sub: 'carol' }, now + 600);
      expect((await server.request('GET', `/api/v2/orders/${order.id}`, { key: otherProjectsToken })).body.error.code).toBe('invalid_token');
      const garbage = await server.request('GET', `/api/v2/orders/${order.id}`, { key: 'a.b.c' });
      expect(garbage.body.error.code).toBe('invalid_token');
    });

    it('validates token requests', async () => {
      const tooLong = await server.request('POST', '/api/v2/tokens', { key: onramp.secretKey, body: { userExternalId: 'x', expiresIn: 10 ** 9 } });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.code).toBe('validation_failed');
      const missing = await server.request('POST', '/api/v2/tokens', { key: onramp.secretKey, body: {} });
      expect(missing.body.error.code).toBe('validation_failed');
    });

    it('a rotated secret key stops working and the new one works', async () => {
      const rotating = await server.createProject('store', 'Rotating');
      const { key } = await server.app.projects.rotateKey(rotating.project.id, 'secret', 0);
      expect(key).toMatch(/^sk_/);
      const old = await server.request('GET', '/api/v2/orders', { key: rotating.secretKey });
      expect(old.status).toBe(401);
      expect(old.body.error.message).toContain('rotated');
      expect((await server.request('GET', '/api/v2/orders', { key })).status).toBe(200);
    });
  });

  describe('polling ergonomics', () => {
    it('answers 304 to If-None-Match with the current ETag, and 200 once it changed', async () => {
      const { body: order } = await createOrder(onramp);
      const first = await server.request('GET', `/api/v2/orders/${order.id}`, { key: onramp.secretKey });
      const etag = first.headers.get('etag')!;
      const same = await server.request('GET', `/api/v2/orders/${order.id}`, { key: onramp.secretKey, headers: { 'if-none-match': etag } });
      expect(same.status).toBe(304);
      expect(same.text).toBe('');
      expect(same.headers.get('etag')).toBe(etag);
      await transition(onramp, order.id, { status: 'PROCESSING' });
      const changed = await server.request('GET', `/api/v2/orders/${order.id}`, { key: onramp.secretKey, headers: { 'if-none-match': etag } });
      expect(changed.status).toBe(200);
      expect(changed.body.status).toBe('PROCESSING');
    });

    it('waitForChange holds the request until the order changes', async () => {
      const { body: order } = await createOrder(onramp);
      const started = Date.now();
      const waiting = server.request('GET', `/api/v2/orders/${order.id}?waitForChange=20`, { key: onramp.secretKey, headers: { 'if-none-match': '"v1"' } });
      await new Promise((r) => setTimeout(r, 300));
      await transition(onramp, order.id, { status: 'PROCESSING' });
      const res = await waiting;
      expect(res.status).toBe(200);
      expect(res.body.version).toBe(2);
      expect(res.body.status).toBe('PROCESSING');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    it('waitForChange returns at once when the client version is already stale, and 304 after the wait when nothing changed', async () => {
      const { body: order } = await createOrder(onramp);
      await transition(onramp, order.id, { status: 'PROCESSING' });
      const stale = await server.request('GET', `/api/v2/orders/${order.id}?waitForChange=20`, { key: onramp.secretKey, headers: { 'if-none-match': '"v1"' } });
      expect(stale.status).toBe(200);
      expect(stale.body.version).toBe(2);
      const started = Date.now();
      const unchanged = await server.request('GET', `/api/v2/orders/${order.id}?waitForChange=1`, {
        key: onramp.secretKey,
        headers: { 'if-none-match': '"v2"' },
      });
      expect(unchanged.status).toBe(304);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    });

    it('waitForChange above 30 seconds is a validation error', async () => {
      const { body: order } = await createOrder(onramp);
      const res = await server.request('GET', `/api/v2/orders/${order.id}?waitForChange=31`, { key: onramp.secretKey });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });
  });
});

describe('rate limiting', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ORDERCAST_RATE_LIMIT: '1', ORDERCAST_RATE_LIMIT_BURST: '3' });
  });
  afterAll(async () => server?.close());

  it('answers 429 with Retry-After and RateLimit-* headers once a credential spends its burst, per key', async () => {
    const a = await server.createProject('store', 'A');
    const b = await server.createProject('store', 'B');
    const statuses: number[] = [];
    let last: ApiResponse | undefined;
    for (let i = 0; i < 4; i++) {
      last = await server.request('GET', '/api/v2/orders', { key: a.secretKey });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.body.error.code).toBe('rate_limited');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('ratelimit-limit')).toBe('3');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect((await server.request('GET', '/api/v2/orders', { key: b.secretKey })).status).toBe(200);
  });
});
