import { Centrifuge, type Subscription } from 'centrifuge';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { createOrder, newCentrifuge, rawCentrifugeSocket, setStatus, userToken, waitFor } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Everything a user of one client-side subscription sees. */
function watch(sub: Subscription) {
  const seen = {
    pubs: [] as Array<{ offset: number | undefined; version: number; status: string }>,
    subscribed: [] as any[],
    errors: [] as any[],
    unsubscribed: [] as any[],
  };
  sub.on('publication', (ctx) => seen.pubs.push({ offset: ctx.offset, version: ctx.data.version, status: ctx.data.status }));
  sub.on('subscribed', (ctx) => seen.subscribed.push(ctx));
  sub.on('error', (ctx) => seen.errors.push(ctx.error));
  sub.on('unsubscribed', (ctx) => seen.unsubscribed.push(ctx));
  return seen;
}

describe.each(testDialects)('Centrifuge order channels, RPC and HTTP transports (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  let other: CreatedProject;
  const clients: Centrifuge[] = [];
  const track = (c: Centrifuge) => (clients.push(c), c);

  beforeAll(async () => {
    server = await startTestServer(dialect);
    project = await server.createProject('store');
    other = await server.createProject('store', 'Another project');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await server?.close();
  });

  const asUser = async (user: string, options = {}) =>
    track(newCentrifuge(server, { user_external_id: user, auth: await userToken(server, project.secretKey, user), project_id: project.project.id }, options));

  it('follows one order on order:<id>: offsets are versions, history, and recovery after a reconnect', async () => {
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'ann' });
    const client = await asUser('ann');
    const sub = client.newSubscription(`order:${orderId}`);
    const seen = watch(sub);
    sub.subscribe();
    client.connect();
    await waitFor(() => seen.subscribed.length === 1, 'subscribed');
    expect(seen.subscribed[0]).toMatchObject({ channel: `order:${orderId}`, recoverable: true, positioned: true, streamPosition: { offset: 1 } });
    await setStatus(server, project.secretKey, orderId, 'paid');
    await waitFor(() => seen.pubs.length === 1, 'the live publication');

    const history = await sub.history({ limit: -1, since: { offset: 0, epoch: '' } });
    expect(history.publications.map((p) => [p.offset, p.data.version, p.data.status])).toEqual([
      [1, 1, 'new'],
      [2, 2, 'paid'],
    ]);
    const newest = await sub.history({ limit: 1, reverse: true });
    expect(newest.publications.map((p) => p.offset)).toEqual([2]);
    expect(newest.offset).toBe(2);

    // Away while the order moves on: the resubscribe recovers from offset 2.
    const reconnecting = new Promise((resolve) => client.once('connecting', resolve));
    await server.app.centrifuge.disconnectAll(3011, 'force reconnect');
    await reconnecting;
    await setStatus(server, project.secretKey, orderId, 'done');
    await waitFor(() => seen.subscribed.length === 2, 'the second subscribed event');
    expect(seen.subscribed[1]).toMatchObject({ wasRecovering: true, recovered: true });
    await waitFor(() => seen.pubs.length === 2, 'the recovered publication');
    expect(seen.pubs).toEqual([
      { offset: 2, version: 2, status: 'paid' },
      { offset: 3, version: 3, status: 'done' },
    ]);
  });

  it('sends each connection the publication of its own channel: one event, user channel and order channel, two offsets', async () => {
    await createOrder(server, project.secretKey, { userExternalId: 'gus' });
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'gus' });
    const clients = [await asUser('gus'), await asUser('gus')];
    const userChannel: Array<[string, number | undefined, number]> = [];
    const orderChannel: Array<[number | undefined, number]> = [];
    for (const client of clients) {
      client.on('publication', (ctx) => userChannel.push([ctx.channel, ctx.offset, ctx.data.version]));
      const sub = client.newSubscription(`order:${orderId}`);
      const seen = watch(sub);
      sub.on('publication', (ctx) => orderChannel.push([ctx.offset, ctx.data.version]));
      sub.subscribe();
      client.connect();
      await waitFor(() => seen.subscribed.length === 1, 'subscribed');
    }
    await setStatus(server, project.secretKey, orderId, 'paid');
    await waitFor(() => userChannel.length === 2 && orderChannel.length === 2, 'both publications on both connections');
    const channel = `orders:${project.project.id}:gus`;
    // The user's third event (two creations, then this change) is version 2 of the order.
    expect(userChannel).toEqual([
      [channel, 3, 2],
      [channel, 3, 2],
    ]);
    expect(orderChannel).toEqual([
      [2, 2],
      [2, 2],
    ]);
  });

  it('answers an unrecoverable position with 112 when the client keeps its own state (getState), and getState reloads it', async () => {
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'gus' });
    await setStatus(server, project.secretKey, orderId, 'paid');
    const client = await asUser('gus');
    // The app's own state: first a position the channel never had (saved before a reset, say), then the order as read now.
    const positions = [{ offset: 99, epoch: 'an-epoch-of-old' }];
    let reads = 0;
    const sub = client.newSubscription(`order:${orderId}`, {
      getState: async () => {
        reads++;
        const saved = positions.shift();
        if (saved) return saved;
        const order = (await client.rpc('order.get', { id: orderId })).data as { version: number };
        return { offset: order.version, epoch: '' };
      },
    });
    const seen = watch(sub);
    sub.subscribe();
    client.connect();
    await waitFor(() => seen.subscribed.length === 1, 'subscribed after getState ran again');
    expect(reads).toBe(2);
    expect(seen.subscribed[0]).toMatchObject({ wasRecovering: true, recovered: true, streamPosition: { offset: 2 } });
    expect(seen.errors).toEqual([]);
    await setStatus(server, project.secretKey, orderId, 'done');
    await waitFor(() => seen.pubs.length === 1, 'the live publication');
    expect(seen.pubs).toEqual([{ offset: 3, version: 3, status: 'done' }]);

    // Without getState the same position is a plain failed recovery: subscribed, recovered false, from the top.
    const plain = await asUser('gus');
    const plainSub = plain.newSubscription(`order:${orderId}`, { since: { offset: 99, epoch: 'an-epoch-of-old' } });
    const plainSeen = watch(plainSub);
    plainSub.subscribe();
    plain.connect();
    await waitFor(() => plainSeen.subscribed.length === 1, 'the plain subscribe');
    expect(plainSeen.subscribed[0]).toMatchObject({ wasRecovering: true, recovered: false, streamPosition: { offset: 3 } });
  });

  it('answers a subscribe flag that is not a whole number with 107, and keeps the connection', async () => {
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'hal' });
    const raw = await rawCentrifugeSocket(server);
    raw.send(
      JSON.stringify({
        id: 1,
        connect: { data: { user_external_id: 'hal', auth: await userToken(server, project.secretKey, 'hal'), project_id: project.project.id } },
      }),
    );
    await raw.next((m) => m.id === 1);
    for (const [id, flag] of [
      [2, 'x'],
      [3, -1],
      [4, 1.5],
      [5, 1e300],
    ] as const) {
      raw.send(JSON.stringify({ id, subscribe: { channel: `order:${orderId}`, flag } }));
      expect(await raw.next((m) => m.id === id)).toMatchObject({ error: { code: 107 } });
    }
    raw.send(JSON.stringify({ id: 6, subscribe: { channel: `order:${orderId}`, flag: 3, recover: true, offset: 1, epoch: '' } }));
    expect(await raw.next((m) => m.id === 6)).toMatchObject({ subscribe: { recovered: true, offset: 1 } });
    raw.ws.close();
  });

  it("refuses another user's order channel with 103, and nothing comes through history or publications", async () => {
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'bob' });
    const client = await asUser('eve');
    const sub = client.newSubscription(`order:${orderId}`);
    const seen = watch(sub);
    sub.subscribe();
    client.connect();
    await waitFor(() => seen.unsubscribed.length === 1, 'the refusal');
    expect(seen.unsubscribed[0]).toMatchObject({ code: 103 });
    // An order that does not exist is refused the same way: nothing tells them apart.
    const missing = client.newSubscription('order:ord_does_not_exist');
    const missingSeen = watch(missing);
    missing.subscribe();
    await waitFor(() => missingSeen.unsubscribed.length === 1, 'the refusal of a missing order');
    expect(missingSeen.unsubscribed[0]).toMatchObject({ code: 103 });
    await expect(client.history(`order:${orderId}`, { limit: -1, since: { offset: 0, epoch: '' } })).rejects.toMatchObject({ code: 103 });
    await setStatus(server, project.secretKey, orderId, 'paid');
    // A round trip after the change: a publication would have come before its reply.
    await expect(client.rpc('order.get', { id: orderId })).rejects.toMatchObject({ code: 103 });
    expect(seen.pubs).toEqual([]);
  });

  it('reads an order with rpc order.get, as the connection credential may', async () => {
    const mine = await createOrder(server, project.secretKey, { userExternalId: 'cat' });
    const theirs = await createOrder(server, project.secretKey, { userExternalId: 'dan' });
    const foreign = await createOrder(server, other.secretKey, { userExternalId: 'cat' });
    const client = await asUser('cat');
    client.connect();
    const reply = await client.rpc('order.get', { id: mine });
    expect(reply.data).toMatchObject({ id: mine, status: 'new', version: 1, userExternalId: 'cat' });
    await expect(client.rpc('order.get', { id: theirs })).rejects.toMatchObject({ code: 103 });
    await expect(client.rpc('order.get', { id: foreign })).rejects.toMatchObject({ code: 103 });
    await expect(client.rpc('order.get', {})).rejects.toMatchObject({ code: 107 });
    await expect(client.rpc('order.delete', { id: mine })).rejects.toMatchObject({ code: 104 });

    // A backend connected with its secret key reads and follows any order of its project, and none of another.
    const backend = track(newCentrifuge(server, { auth: project.secretKey }));
    backend.connect();
    expect((await backend.rpc('order.get', { id: theirs })).data).toMatchObject({ id: theirs });
    await expect(backend.rpc('order.get', { id: foreign })).rejects.toMatchObject({ code: 103 });
    const sub = backend.newSubscription(`order:${theirs}`);
    const seen = watch(sub);
    sub.subscribe();
    await waitFor(() => seen.subscribed.length === 1, 'the secret key subscription');
    await setStatus(server, project.secretKey, theirs, 'paid');
    await waitFor(() => seen.pubs.length === 1, 'the publication');
    expect(seen.pubs[0]).toMatchObject({ offset: 2, status: 'paid' });
    const foreignSub = backend.newSubscription(`order:${foreign}`);
    const foreignSeen = watch(foreignSub);
    foreignSub.subscribe();
    await waitFor(() => foreignSeen.unsubscribed.length === 1, 'the refusal');
    expect(foreignSeen.unsubscribed[0]).toMatchObject({ code: 103 });
  });

  it('works over http_stream and sse only, with WebSocket unavailable: connect, subscribe, history, rpc and publications', async () => {
    for (const transport of ['http_stream', 'sse'] as const) {
      const user = `stream-${transport}`;
      const orderId = await createOrder(server, project.secretKey, { userExternalId: user });
      const transports = [
        { transport: 'http_stream' as const, endpoint: `${server.baseUrl}/connection/http_stream` },
        { transport: 'sse' as const, endpoint: `${server.baseUrl}/connection/sse` },
      ];
      const client = track(
        new Centrifuge(transport === 'http_stream' ? transports : transports.slice(1), {
          data: { user_external_id: user, auth: await userToken(server, project.secretKey, user), project_id: project.project.id },
          emulationEndpoint: `${server.baseUrl}/emulation`,
          // No `websocket`: Node 20 has none, so only the HTTP transports can work.
          eventsource: EventSource as unknown as typeof globalThis.EventSource,
          minReconnectDelay: 50,
          maxReconnectDelay: 300,
        }),
      );
      const connected = new Promise<any>((resolve) => client.once('connected', resolve));
      const userPubs: number[] = [];
      client.on('publication', (ctx) => userPubs.push(ctx.offset as number));
      const sub = client.newSubscription(`order:${orderId}`);
      const seen = watch(sub);
      sub.subscribe();
      client.connect();
      expect((await connected).transport).toBe(transport);
      await waitFor(() => seen.subscribed.length === 1, `subscribed over ${transport}`);
      await setStatus(server, project.secretKey, orderId, 'paid');
      await waitFor(() => seen.pubs.length === 1 && userPubs.length === 1, `publications over ${transport}`);
      expect(seen.pubs[0]).toMatchObject({ offset: 2, status: 'paid' });
      const history = await sub.history({ limit: -1, since: { offset: 0, epoch: '' } });
      expect(history.publications.map((p) => p.data.status)).toEqual(['new', 'paid']);
      expect((await client.rpc('order.get', { id: orderId })).data).toMatchObject({ id: orderId, status: 'paid' });
      client.disconnect();
      await waitFor(() => server.app.centrifuge.connectionCount === 0, 'the stream to end');
    }
  });

  it('answers malformed http_stream, sse and emulation requests with 4xx, and keeps serving', async () => {
    const post = (path: string, body: string, type = 'application/json') =>
      fetch(`${server.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('/connection/http_stream', '')).status).toBe(400);
    expect((await post('/connection/http_stream', 'not json')).status).toBe(400);
    expect((await post('/connection/http_stream', '[1,2]')).status).toBe(400);
    expect((await post('/connection/http_stream', 'x'.repeat(200_000))).status).toBe(413);
    expect((await fetch(`${server.baseUrl}/connection/sse`)).status).toBe(400);
    expect((await fetch(`${server.baseUrl}/connection/sse?cf_connect=%7Bnope`)).status).toBe(400);
    for (const body of ['', 'null', '{"session":1}', '{"session":"a","node":"b"}', '{"session":"a","node":"b","data":"{bad"}', '[]', 'x'.repeat(200_000)]) {
      const res = await post('/emulation', body);
      expect(res.status, body.slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(res.status, body.slice(0, 40)).toBeLessThan(500);
    }
    // Well formed, but for no node of this server: the client is told to reconnect.
    expect((await post('/emulation', JSON.stringify({ session: 'a', node: 'b', data: '{"id":1,"rpc":{}}' }))).status).toBe(404);

    // A bad token over http_stream: the stream carries a disconnect push with a final code, then ends.
    const res = await post('/connection/http_stream', JSON.stringify({ id: 1, connect: { data: { auth: 'not-a-token' } } }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text.trim().split('\n').at(-1)!)).toMatchObject({ push: { disconnect: { code: 3500, reconnect: false } } });

    // The WebSocket endpoint still serves.
    const raw = await rawCentrifugeSocket(server);
    raw.send(JSON.stringify({ id: 1, connect: { data: { auth: project.secretKey } } }));
    expect((await raw.next((m) => m.id === 1)).connect).toMatchObject({ client: expect.any(String) });
    raw.ws.close();
  });
});
