import { Centrifuge, type StreamPosition } from 'centrifuge';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { createOrder, expiredUserToken, newCentrifuge, rawCentrifugeSocket, setStatus, userToken, waitFor, wsBase } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

function disconnectedWith(client: Centrifuge): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => client.once('disconnected', (ctx) => resolve({ code: ctx.code, reason: ctx.reason })));
}

describe.each(testDialects)('Centrifuge gateway (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  let projectId: string;
  const clients: Centrifuge[] = [];
  const track = (c: Centrifuge) => (clients.push(c), c);

  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WS_HISTORY_LIMIT: '50' });
    project = await server.createProject('store');
    projectId = project.project.id;
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs the reference 003 snippet unchanged but for host and credentials', async () => {
    const user_external_id = 'ref-user';
    const orderId = await createOrder(server, project.secretKey, { userExternalId: user_external_id });
    await setStatus(server, project.secretKey, orderId, 'paid');
    const auth = await userToken(server, project.secretKey, user_external_id);
    const project_id = projectId;
    const connectionURL = `${wsBase(server.baseUrl)}/connection/websocket`;
    const live: any[] = [];
    const history: any[] = [];
    let historyError: unknown;

    // --- reference 003, nearly verbatim (plus `websocket` for Node 20; the casts only satisfy
    // centrifuge's types, which want an epoch the reference snippet does not send) ---
    const client = new Centrifuge(connectionURL, {
      data: {
        user_external_id: user_external_id,
        auth: auth,
        project_id: project_id,
      },
      websocket: WebSocket,
    });
    client.on('publication', (ctx) => {
      live.push(ctx.data);
    });
    client.connect();
    client.on('subscribed', (ctx) => {
      client.history(ctx.channel, { limit: -1, since: { offset: 0 } as StreamPosition, reverse: false }).then(
        (resp) => {
          resp.publications.forEach((ctx) => {
            history.push(ctx.data);
          });
        },
        (err) => {
          historyError = err;
        },
      );
    });
    // ---
    track(client);
    await waitFor(() => history.length === 2 || historyError !== undefined, 'the history reply');
    expect(historyError).toBeUndefined();
    expect(history).toEqual([
      { order_id: orderId, status: 'new', version: 1, event: 'order_created', updated_at: expect.any(String) },
      { order_id: orderId, status: 'paid', version: 2, event: 'order_paid', updated_at: expect.any(String) },
    ]);
    await setStatus(server, project.secretKey, orderId, 'done');
    await waitFor(() => live.length === 1, 'the live publication');
    expect(live[0]).toEqual({ order_id: orderId, status: 'done', version: 3, event: 'order_done', updated_at: expect.any(String) });
    const timeline = await server.request('GET', `/api/v2/orders/${orderId}`, { key: project.secretKey });
    expect(live[0].updated_at).toBe(timeline.body.updatedAt);
  });

  it('announces the user channel in the connect reply, at offset 0 with a stable epoch before any event', async () => {
    const token = await userToken(server, project.secretKey, 'fresh-user');
    const channel = `orders:${projectId}:fresh-user`;
    const connectOnce = async () => {
      const raw = await rawCentrifugeSocket(server);
      raw.send(JSON.stringify({ id: 1, connect: { data: { user_external_id: 'fresh-user', auth: token, project_id: projectId }, name: 'js' } }));
      const reply = await raw.next((m) => m.id === 1);
      raw.ws.close();
      return reply;
    };
    const before = await connectOnce();
    expect(before.connect).toMatchObject({ ping: 25, pong: true, subs: { [channel]: { recoverable: true, positioned: true, offset: 0 } } });
    expect(typeof before.connect.client).toBe('string');
    expect(before.connect.expires).toBeUndefined();
    expect(before.connect.ttl).toBeUndefined();
    const epoch = before.connect.subs[channel].epoch;
    expect(epoch).toMatch(/^\S{4,}$/);
    await createOrder(server, project.secretKey, { userExternalId: 'fresh-user' });
    const after = await connectOnce();
    expect(after.connect.subs[channel]).toMatchObject({ epoch, offset: 1 });
  });

  it('delivers a burst of 1,000 changes on the user channel with gap-free offsets, none missed or repeated', async () => {
    const token = await userToken(server, project.secretKey, 'burst-user');
    const client = track(newCentrifuge(server, { user_external_id: 'burst-user', auth: token, project_id: projectId }));
    const offsets: number[] = [];
    client.on('publication', (ctx) => offsets.push(ctx.offset as number));
    const subscribed = new Promise((resolve) => client.once('subscribed', resolve));
    client.connect();
    await subscribed;
    // 500 orders created and paid: 1,000 publications on one channel, written as fast as the service goes.
    for (let i = 0; i < 500; i++) {
      const order = await server.app.orders.create(projectId, { userExternalId: 'burst-user' });
      await server.app.orders.transition(projectId, order.body.id, { status: 'paid' });
    }
    await waitFor(() => offsets.length >= 1000, '1,000 publications', 20_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(offsets).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  describe('history', () => {
    const user = 'history-user';
    const channel = () => `orders:${projectId}:${user}`;
    let client: Centrifuge;

    beforeAll(async () => {
      // Six publications: three orders, each created and paid.
      for (let i = 0; i < 3; i++) {
        const id = await createOrder(server, project.secretKey, { userExternalId: user, externalId: `h-${i}` });
        await setStatus(server, project.secretKey, id, 'paid');
      }
      client = newCentrifuge(server, { user_external_id: user, auth: await userToken(server, project.secretKey, user), project_id: projectId });
      const subscribed = new Promise((resolve) => client.once('subscribed', resolve));
      client.connect();
      await subscribed;
    });
    afterAll(() => client.disconnect());

    const offsetsOf = (resp: { publications: { offset?: number }[] }) => resp.publications.map((p) => p.offset);

    it('reads forward, from an offset, limited, and reverse', async () => {
      const all = await client.history(channel(), { limit: -1, since: { offset: 0 } as StreamPosition });
      expect(offsetsOf(all)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(all.offset).toBe(6);
      expect(all.publications.map((p) => p.data.status)).toEqual(['new', 'paid', 'new', 'paid', 'new', 'paid']);
      expect(offsetsOf(await client.history(channel(), { limit: -1, since: { offset: 4, epoch: all.epoch } }))).toEqual([5, 6]);
      expect(offsetsOf(await client.history(channel(), { limit: 2, since: { offset: 1 } as StreamPosition }))).toEqual([2, 3]);
      expect(offsetsOf(await client.history(channel(), { limit: 2 }))).toEqual([1, 2]);
      expect(offsetsOf(await client.history(channel(), { limit: 3, reverse: true }))).toEqual([6, 5, 4]);
      expect(offsetsOf(await client.history(channel(), { limit: -1, since: { offset: 3 } as StreamPosition, reverse: true }))).toEqual([2, 1]);
      const position = await client.history(channel(), { limit: 0 });
      expect(position).toMatchObject({ publications: [], offset: 6, epoch: all.epoch });
    });

    it('caps limit -1 at the configured history limit', async () => {
      const capped = await rawHistory({ limit: -1 }, 'cap-user', 60);
      expect(capped.history.publications).toHaveLength(50);
      expect(capped.history.offset).toBe(60);
    });

    it('answers a wrong epoch with 112, reverse from offset 0 with 107, and another channel with 103', async () => {
      await expect(client.history(channel(), { limit: -1, since: { offset: 0, epoch: 'not-the-epoch' } })).rejects.toMatchObject({ code: 112 });
      await expect(client.history(channel(), { limit: -1, since: { offset: 0 } as StreamPosition, reverse: true })).rejects.toMatchObject({ code: 107 });
      await expect(client.history(`orders:${projectId}:someone-else`, { limit: -1 })).rejects.toMatchObject({ code: 103 });
    });
  });

  async function rawHistory(history: object, user: string, events: number) {
    for (let i = 0; i < events; i++) await server.app.orders.create(projectId, { userExternalId: user });
    const token = await userToken(server, project.secretKey, user);
    const raw = await rawCentrifugeSocket(server);
    raw.send(JSON.stringify({ id: 1, connect: { data: { user_external_id: user, auth: token, project_id: projectId } } }));
    await raw.next((m) => m.id === 1);
    raw.send(JSON.stringify({ id: 2, history: { channel: `orders:${projectId}:${user}`, ...history } }));
    const reply = await raw.next((m) => m.id === 2);
    raw.ws.close();
    return reply;
  }

  it('recovers missed publications on reconnect (recovered: true) and continues live', async () => {
    const user = 'recover-user';
    const orderId = await createOrder(server, project.secretKey, { userExternalId: user });
    const client = track(newCentrifuge(server, { user_external_id: user, auth: await userToken(server, project.secretKey, user), project_id: projectId }));
    const pubs: any[] = [];
    const subscribedEvents: any[] = [];
    client.on('publication', (ctx) => pubs.push({ offset: ctx.offset, status: ctx.data.status }));
    client.on('subscribed', (ctx) => subscribedEvents.push(ctx));
    client.connect();
    await waitFor(() => subscribedEvents.length === 1, 'subscribed');
    expect(subscribedEvents[0].streamPosition.offset).toBe(1);
    // Drop every connection with a reconnect code; write while the client is away.
    const reconnecting = new Promise((resolve) => client.once('connecting', resolve));
    await server.app.centrifuge.disconnectAll(3011, 'force reconnect');
    await reconnecting;
    await setStatus(server, project.secretKey, orderId, 'paid');
    await waitFor(() => subscribedEvents.length === 2, 'the second subscribed event');
    expect(subscribedEvents[1]).toMatchObject({ wasRecovering: true, recovered: true });
    await waitFor(() => pubs.length === 1, 'the recovered publication');
    await setStatus(server, project.secretKey, orderId, 'done');
    await waitFor(() => pubs.length === 2, 'the live publication');
    expect(pubs).toEqual([
      { offset: 2, status: 'paid' },
      { offset: 3, status: 'done' },
    ]);
  });

  it('refuses recovery across an epoch change or from a position ahead of the channel', async () => {
    const user = 'epoch-user';
    await createOrder(server, project.secretKey, { userExternalId: user });
    const token = await userToken(server, project.secretKey, user);
    const channel = `orders:${projectId}:${user}`;
    for (const sub of [
      { recover: true, offset: 1, epoch: 'old-epoch' },
      { recover: true, offset: 9 },
    ]) {
      const raw = await rawCentrifugeSocket(server);
      raw.send(JSON.stringify({ id: 1, connect: { data: { user_external_id: user, auth: token, project_id: projectId }, subs: { [channel]: sub } } }));
      const reply = await raw.next((m) => m.id === 1);
      expect(reply.connect.subs[channel]).toMatchObject({ was_recovering: true, recovered: false, offset: 1 });
      expect(reply.connect.subs[channel].publications).toBeUndefined();
      raw.ws.close();
    }
  });

  describe('auth failures close with a final code and a readable reason', () => {
    it('a bad token: 3500, and the client stays disconnected', async () => {
      const client = track(newCentrifuge(server, { user_external_id: 'u1', auth: 'not.a.jwt', project_id: projectId }));
      const closed = disconnectedWith(client);
      client.connect();
      const { code, reason } = await closed;
      expect(code).toBe(3500);
      expect(reason).toMatch(/^invalid token: /);
      await new Promise((r) => setTimeout(r, 500));
      expect(client.state).toBe('disconnected');
    });

    it('an expired token: 3500 "token expired"', async () => {
      const token = await expiredUserToken(project, 'u1');
      const client = track(newCentrifuge(server, { user_external_id: 'u1', auth: token, project_id: projectId }));
      const closed = disconnectedWith(client);
      client.connect();
      expect(await closed).toMatchObject({ code: 3500, reason: expect.stringMatching(/^token expired/) });
    });

    it('a project_id that does not match the token: 3500', async () => {
      const other = await server.createProject('store', 'Other');
      const token = await userToken(server, project.secretKey, 'u1');
      const client = track(newCentrifuge(server, { user_external_id: 'u1', auth: token, project_id: other.project.id }));
      const closed = disconnectedWith(client);
      client.connect();
      expect(await closed).toMatchObject({ code: 3500, reason: expect.stringMatching(/another project/) });
    });

    it("another user's channel: 3507 on connect, 103 on a client-side subscribe", async () => {
      const token = await userToken(server, project.secretKey, 'u1');
      const client = track(newCentrifuge(server, { user_external_id: 'u2', auth: token, project_id: projectId }));
      const closed = disconnectedWith(client);
      client.connect();
      expect(await closed).toMatchObject({ code: 3507, reason: expect.stringMatching(/^permission denied: user_external_id/) });

      const own = track(newCentrifuge(server, { user_external_id: 'u1', auth: token, project_id: projectId }));
      own.connect();
      await own.ready(5000);
      const sub = own.newSubscription(`orders:${projectId}:u2`);
      const error = new Promise<any>((resolve) => sub.once('unsubscribed', resolve));
      sub.subscribe();
      expect(await error).toMatchObject({ code: 103 });
    });

    it('connect data without auth: 3500 naming data.auth', async () => {
      const client = track(newCentrifuge(server, { user_external_id: 'u1', project_id: projectId }));
      const closed = disconnectedWith(client);
      client.connect();
      expect(await closed).toMatchObject({ code: 3500, reason: expect.stringMatching(/data\.auth/) });
    });
  });

  describe('bad inputs', () => {
    async function connected(user = 'raw-user') {
      const raw = await rawCentrifugeSocket(server);
      raw.send(
        JSON.stringify({ id: 1, connect: { data: { user_external_id: user, auth: await userToken(server, project.secretKey, user), project_id: projectId } } }),
      );
      await raw.next((m) => m.id === 1);
      return raw;
    }

    it('closes on a non-JSON frame with 3501', async () => {
      const raw = await connected();
      raw.send('hello, is this JSON?');
      expect(await raw.closed).toEqual({ code: 3501, reason: 'bad request: frame is not JSON' });
    });

    it('closes on a frame over the size limit with 1009', async () => {
      const raw = await connected();
      raw.send(JSON.stringify({ id: 2, rpc: { data: 'x'.repeat(70 * 1024) } }));
      expect((await raw.closed).code).toBe(1009);
    });

    it('closes on a command before connect with 3501', async () => {
      const raw = await rawCentrifugeSocket(server);
      raw.send(JSON.stringify({ id: 1, history: { channel: 'orders:x:y' } }));
      expect(await raw.closed).toEqual({ code: 3501, reason: 'bad request: send connect first' });
    });

    it('closes on a pong that answers no ping with 3501', async () => {
      const raw = await connected();
      raw.send('{}');
      expect(await raw.closed).toEqual({ code: 3501, reason: 'bad request: pong without a ping' });
    });

    it('answers an unknown method (or RPC method) with 104, unsupported ones with 108 and a refresh without a token with 107, keeping the connection', async () => {
      const raw = await connected();
      raw.send(
        [
          { id: 2, teleport: {} },
          { id: 3, publish: { channel: 'x', data: {} } },
          { id: 4, presence: { channel: 'x' } },
          { id: 5, rpc: {} },
          { id: 6, refresh: {} },
          { id: 7, unsubscribe: { channel: 'x' } },
        ]
          .map((c) => JSON.stringify(c))
          .join('\n'),
      );
      expect((await raw.next((m) => m.id === 2)).error).toMatchObject({ code: 104 });
      for (const id of [3, 4]) expect((await raw.next((m) => m.id === id)).error).toMatchObject({ code: 108 });
      expect((await raw.next((m) => m.id === 5)).error).toMatchObject({ code: 104 });
      expect((await raw.next((m) => m.id === 6)).error).toMatchObject({ code: 107 });
      expect(await raw.next((m) => m.id === 7)).toEqual({ id: 7, unsubscribe: {} });
      raw.ws.close();
    });

    it('answers each of 10,000 subscribe requests from one socket, and stays usable', async () => {
      const raw = await connected('many-subs');
      const channel = `orders:${projectId}:many-subs`;
      // 20 frames of 500 commands: each frame stays under the 64 KiB limit.
      for (let batch = 0; batch < 20; batch++) {
        const lines = Array.from({ length: 500 }, (_, i) =>
          JSON.stringify({ id: 2 + batch * 500 + i, subscribe: { channel: i % 2 ? channel : `orders:${projectId}:other-${i}` } }),
        );
        raw.send(lines.join('\n'));
      }
      await waitFor(() => raw.messages.filter((m) => m.id >= 2).length === 10_000, '10,000 replies', 20_000);
      const codes = new Set(raw.messages.filter((m) => m.id >= 2).map((m) => m.error?.code));
      expect([...codes].sort()).toEqual([103, 105]);
      raw.send(JSON.stringify({ id: 20_000, history: { channel, limit: 0 } }));
      expect((await raw.next((m) => m.id === 20_000)).history).toMatchObject({ publications: [], offset: 0 });
      raw.ws.close();
    });

    it('answers commands over the per-connection rate with 111 (temporary)', async () => {
      const limited = await startTestServer('sqlite', { ORDERCAST_WS_MESSAGE_RATE: '5' });
      try {
        const p = await limited.createProject('store');
        const raw = await rawCentrifugeSocket(limited);
        raw.send(
          JSON.stringify({ id: 1, connect: { data: { user_external_id: 'r', auth: await userToken(limited, p.secretKey, 'r'), project_id: p.project.id } } }),
        );
        await raw.next((m) => m.id === 1);
        raw.send(Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: 2 + i, history: { channel: `orders:${p.project.id}:r`, limit: 0 } })).join('\n'));
        await waitFor(() => raw.messages.filter((m) => m.id >= 2).length === 30, '30 replies');
        const limitedReplies = raw.messages.filter((m) => m.error?.code === 111);
        expect(limitedReplies.length).toBeGreaterThan(0);
        expect(limitedReplies[0].error).toEqual({ code: 111, message: 'too many requests: slow down', temporary: true });
        raw.ws.close();
      } finally {
        await limited.close();
      }
    });

    it('closes a stale connection that never sends connect, and one that stops answering pings', async () => {
      const stale = await startTestServer('sqlite', { ORDERCAST_WS_CONNECT_TIMEOUT: '1', ORDERCAST_WS_PING_INTERVAL: '1', ORDERCAST_WS_PONG_TIMEOUT: '1' });
      try {
        const p = await stale.createProject('store');
        const raw = await rawCentrifugeSocket(stale);
        expect(await raw.closed).toEqual({ code: 3502, reason: 'stale: no connect command in time' });
        const quiet = await rawCentrifugeSocket(stale);
        quiet.send(
          JSON.stringify({ id: 1, connect: { data: { user_external_id: 'q', auth: await userToken(stale, p.secretKey, 'q'), project_id: p.project.id } } }),
        );
        await quiet.next((m) => m.id === 1);
        expect(await quiet.next((m) => Object.keys(m).length === 0)).toEqual({});
        expect(await quiet.closed).toEqual({ code: 3012, reason: 'no pong' });
        // The official client answers pings and stays connected.
        const client = newCentrifuge(stale, { user_external_id: 'q', auth: await userToken(stale, p.secretKey, 'q'), project_id: p.project.id });
        client.connect();
        await client.ready(5000);
        await new Promise((r) => setTimeout(r, 3000));
        expect(client.state).toBe('connected');
        client.disconnect();
      } finally {
        await stale.close();
      }
    });
  });
});
