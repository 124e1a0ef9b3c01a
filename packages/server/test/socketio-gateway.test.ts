import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { connectSocket, createOrder, emitWithAck, expiredUserToken, setStatus, userToken, waitFor } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ONRAMP_PATH = ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'];

describe.each(testDialects)('Socket.IO gateway (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  const sockets: Socket[] = [];
  const track = (s: Socket) => (sockets.push(s), s);

  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WS_MAX_SUBSCRIPTIONS: '20' });
    project = await server.createProject('onramp');
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
  });

  it('runs the reference 000 snippet unchanged but for host and key', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const seen: any[] = [];
    let completed: any;
    // --- reference 000, nearly verbatim ---
    const socket = io(`${server.baseUrl}/ws`, {
      auth: { apiKey: project.secretKey },
    });
    socket.on('connect', () => {
      socket.emit('subscribe:order', { orderId: orderId });
    });
    socket.on('order:update', (update) => {
      seen.push(update);
      if (update.status === 'COMPLETED') {
        completed = update;
      }
    });
    // ---
    track(socket);
    await waitFor(() => socket.connected, 'the socket to connect');
    // The subscribe has no ack in the snippet: give it a moment to be registered, then change the order.
    await new Promise((r) => setTimeout(r, 200));
    for (const status of ONRAMP_PATH) await setStatus(server, project.secretKey, orderId, status);
    await waitFor(() => completed !== undefined, 'the COMPLETED update');
    expect(seen.map((u) => u.status)).toEqual(ONRAMP_PATH);
    expect(completed).toMatchObject({
      orderId,
      status: 'COMPLETED',
      previousStatus: 'PENDING_DELIVERY',
      version: 4,
      eventName: 'ORDER_COMPLETED',
      order: { id: orderId, status: 'COMPLETED', version: 4 },
    });
    expect(typeof completed.updatedAt).toBe('string');
  });

  it('acks subscribe:order with the current order, then sends each later change once, in order', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const socket = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
    const updates: any[] = [];
    socket.on('order:update', (u) => updates.push(u));
    const ack = await emitWithAck(socket, 'subscribe:order', { orderId });
    expect(ack).toMatchObject({ id: orderId, status: 'AWAITING_PAYMENT_FROM_USER', version: 1 });
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => updates.length === 1, 'one update');
    expect(updates[0]).toMatchObject({
      orderId,
      status: 'PROCESSING',
      previousStatus: 'AWAITING_PAYMENT_FROM_USER',
      version: 2,
      eventName: 'ORDER_PROCESSING',
    });
    const off = await emitWithAck(socket, 'unsubscribe:order', { orderId });
    expect(off).toEqual({ orderId, unsubscribed: true });
    await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    await new Promise((r) => setTimeout(r, 300));
    expect(updates).toHaveLength(1);
  });

  it('delivers 1,000 rapid transitions with no missed or duplicated update', async () => {
    // A custom lifecycle that can loop, so one order can take 1,000 transitions.
    const looping = await server.createProject({
      name: 'loop',
      statuses: ['a', 'b', 'done'],
      initial: ['a'],
      final: ['done'],
      transitions: { a: ['b', 'done'], b: ['a', 'done'] },
    });
    const orderId = await createOrder(server, looping.secretKey);
    const early = track(await connectSocket(server.baseUrl, { apiKey: looping.secretKey }));
    const late = track(await connectSocket(server.baseUrl, { apiKey: looping.secretKey }));
    const earlyVersions: number[] = [];
    const lateVersions: number[] = [];
    early.on('order:update', (u) => earlyVersions.push(u.version));
    late.on('order:update', (u) => lateVersions.push(u.version));
    const earlyAck = await emitWithAck(early, 'subscribe:order', { orderId });
    let lateAck: any;
    for (let i = 0; i < 1000; i++) {
      await setStatus(server, looping.secretKey, orderId, i % 2 === 0 ? 'b' : 'a');
      // The second client subscribes while the writes are under way: updates start right after its ack's version.
      if (i === 300) void emitWithAck(late, 'subscribe:order', { orderId }).then((ack) => (lateAck = ack));
    }
    const done = (versions: number[]) => versions.length > 0 && versions[versions.length - 1] === 1001;
    await waitFor(() => done(earlyVersions) && done(lateVersions), 'the last update on both sockets', 20_000);
    const range = (from: number) => Array.from({ length: 1001 - from }, (_, i) => from + 1 + i);
    expect(earlyAck.version).toBe(1);
    expect(earlyVersions).toEqual(range(1));
    expect(lateAck.version).toBeGreaterThan(1);
    expect(lateAck.version).toBeLessThan(1001);
    expect(lateVersions).toEqual(range(lateAck.version));
  });

  it('replays missed updates in order when a client re-subscribes with sinceVersion', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const first = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
    const ack = await emitWithAck(first, 'subscribe:order', { orderId });
    first.close();
    for (const status of ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'PENDING_DELIVERY']) await setStatus(server, project.secretKey, orderId, status);
    const second = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
    const updates: any[] = [];
    second.on('order:update', (u) => updates.push(u));
    const again = await emitWithAck(second, 'subscribe:order', { orderId, sinceVersion: ack.version });
    expect(again.version).toBe(4);
    await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    await waitFor(() => updates.length === 4, 'the 3 missed updates and the new one');
    expect(updates.map((u) => [u.version, u.status])).toEqual([
      [2, 'PAYMENT_DONE_MARKED_BY_USER'],
      [3, 'PROCESSING'],
      [4, 'PENDING_DELIVERY'],
      [5, 'COMPLETED'],
    ]);
  });

  it('reconnects with socket.io-client and catches up through sinceVersion', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const socket = track(
      io(`${server.baseUrl}/ws`, { auth: { apiKey: project.secretKey }, transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 100 }),
    );
    let lastVersion = 0;
    const statuses: string[] = [];
    socket.on('order:update', (u) => {
      statuses.push(u.status);
      lastVersion = u.version;
    });
    socket.on('connect', () => {
      socket.emit('subscribe:order', { orderId, sinceVersion: lastVersion || undefined }, (ack: any) => {
        if (!lastVersion) lastVersion = ack.version;
      });
    });
    await waitFor(() => lastVersion === 1, 'the first ack');
    // Drop the transport: the client reconnects by itself.
    (socket.io as any).engine.close();
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    await waitFor(() => statuses.length === 2, 'both updates after the reconnect');
    expect(statuses).toEqual(['PROCESSING', 'COMPLETED']);
  });

  it('lets a secret key follow every order of its project', async () => {
    const socket = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
    const updates: any[] = [];
    socket.on('order:update', (u) => updates.push(u));
    expect(await emitWithAck(socket, 'subscribe:project')).toEqual({ projectId: project.project.id, subscribed: true });
    const a = await createOrder(server, project.secretKey, { status: 'PROCESSING' });
    const b = await createOrder(server, project.secretKey, { status: 'PROCESSING' });
    await setStatus(server, project.secretKey, a, 'COMPLETED');
    await waitFor(() => updates.length === 3, 'three updates');
    expect(updates.map((u) => [u.orderId, u.status])).toEqual([
      [a, 'PROCESSING'],
      [b, 'PROCESSING'],
      [a, 'COMPLETED'],
    ]);
  });

  describe('auth', () => {
    it('refuses a missing or bad key with connect_error data {code, message}', async () => {
      const missing = await connectSocket(server.baseUrl, {}).catch((e) => e);
      expect(missing.data).toMatchObject({ code: 'unauthorized' });
      expect(missing.message).toMatch(/Missing API key/);
      const bad = await connectSocket(server.baseUrl, { apiKey: 'sk_nope' }).catch((e) => e);
      expect(bad.data).toEqual({ code: 'unauthorized', message: 'Invalid API key' });
    });

    it("answers another project's order as order_not_found", async () => {
      const other = await server.createProject('onramp', 'Other');
      const theirs = await createOrder(server, other.secretKey);
      const socket = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
      const reply = await emitWithAck(socket, 'subscribe:order', { orderId: theirs });
      expect(reply).toEqual({ code: 'order_not_found', message: `No order ${theirs}` });
    });

    it('needs a user token with a publishable key, and limits it to that user', async () => {
      const noToken = await connectSocket(server.baseUrl, { apiKey: project.publishableKey }).catch((e) => e);
      expect(noToken.data.code).toBe('unauthorized');
      expect(noToken.message).toMatch(/publishable key needs a user token/);

      const mine = await createOrder(server, project.secretKey, { userExternalId: 'alice' });
      const bobs = await createOrder(server, project.secretKey, { userExternalId: 'bob' });
      const token = await userToken(server, project.secretKey, 'alice');
      const socket = track(await connectSocket(server.baseUrl, { apiKey: project.publishableKey, token }));
      expect(await emitWithAck(socket, 'subscribe:order', { orderId: mine })).toMatchObject({ id: mine, userExternalId: 'alice' });
      expect(await emitWithAck(socket, 'subscribe:order', { orderId: bobs })).toMatchObject({ code: 'order_not_found' });
      expect(await emitWithAck(socket, 'subscribe:project')).toMatchObject({ code: 'forbidden' });
    });

    it('refuses an expired user token with token_expired', async () => {
      const token = await expiredUserToken(project, 'alice');
      const error = await connectSocket(server.baseUrl, { apiKey: project.publishableKey, token }).catch((e) => e);
      expect(error.data.code).toBe('token_expired');
    });

    it("refuses another project's user token with invalid_token", async () => {
      const other = await server.createProject('onramp', 'Other 2');
      const token = await userToken(server, other.secretKey, 'alice');
      const error = await connectSocket(server.baseUrl, { apiKey: project.publishableKey, token }).catch((e) => e);
      expect(error.data.code).toBe('invalid_token');
    });

    it('points clients at /ws when they connect to the default namespace', async () => {
      const socket = io(server.baseUrl, { auth: { apiKey: project.secretKey }, transports: ['websocket'], reconnection: false, forceNew: true });
      const error = await new Promise<any>((resolve) => socket.once('connect_error', resolve));
      socket.close();
      expect(error.data.code).toBe('route_not_found');
    });
  });

  describe('bad inputs', () => {
    it('answers a subscribe with no orderId, or a non-string one, with validation_failed', async () => {
      const socket = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
      for (const payload of [undefined, {}, { orderId: 42 }, { orderId: '' }, 'ord_x', { orderId: 'x'.repeat(101) }, { orderId: 'o', sinceVersion: -1 }]) {
        const reply = await emitWithAck(socket, 'subscribe:order', payload);
        expect(reply.code).toBe('validation_failed');
        expect(reply.message).toMatch(/orderId|sinceVersion/);
      }
      // Without an ack, the error comes as a subscribe:error event.
      const errors: any[] = [];
      socket.on('subscribe:error', (e) => errors.push(e));
      socket.emit('subscribe:order', { orderId: 7 });
      await waitFor(() => errors.length === 1, 'subscribe:error');
      expect(errors[0]).toMatchObject({ event: 'subscribe:order', code: 'validation_failed' });
    });

    it('answers an unknown event with unknown_event', async () => {
      const socket = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
      expect(await emitWithAck(socket, 'subscribe:everything', {})).toMatchObject({ code: 'unknown_event' });
    });

    it('survives 10,000 subscribe requests on one socket: each is answered, at most the limit succeed', async () => {
      const orderIds = await Promise.all(Array.from({ length: 25 }, () => createOrder(server, project.secretKey)));
      const socket = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
      const replies = await Promise.all(
        Array.from({ length: 10_000 }, (_, i) => emitWithAck(socket, 'subscribe:order', { orderId: i % 2 === 0 ? orderIds[i % 25] : `ord_missing_${i}` })),
      );
      const codes = new Map<string, number>();
      for (const r of replies) codes.set(r.code ?? 'ok', (codes.get(r.code ?? 'ok') ?? 0) + 1);
      expect(replies).toHaveLength(10_000);
      for (const code of codes.keys()) expect(['ok', 'order_not_found', 'limit_exceeded']).toContain(code);
      expect(codes.get('limit_exceeded')).toBeGreaterThan(0);
      const refused = replies.find((r) => r.code === 'limit_exceeded');
      expect(refused.message).toMatch(/At most 20 subscriptions per connection/);
      // The connection still works: after unsubscribing everything it can subscribe again.
      for (const orderId of orderIds) await emitWithAck(socket, 'unsubscribe:order', { orderId });
      expect(await emitWithAck(socket, 'subscribe:order', { orderId: orderIds[0] })).toMatchObject({ id: orderIds[0] });
      expect(socket.connected).toBe(true);
    });

    it('disconnects a client whose message is larger than the frame limit', async () => {
      const socket = track(await connectSocket(server.baseUrl, { apiKey: project.secretKey }));
      const reason = new Promise((resolve) => socket.once('disconnect', resolve));
      socket.emit('subscribe:order', { orderId: 'x'.repeat(70 * 1024) });
      expect(await reason).toBe('transport close');
    });
  });
});

describe.each(testDialects)('Socket.IO subscribe churn (%s)', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WS_MESSAGE_RATE: '0' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a client that subscribes, unsubscribes and resubscribes 1,000 times while the order moves leaves no room or hub listener, and then gets each version once', async () => {
    const looping = await server.createProject({
      name: 'loop',
      statuses: ['a', 'b', 'done'],
      initial: ['a'],
      final: ['done'],
      transitions: { a: ['b', 'done'], b: ['a', 'done'] },
    });
    const orderId = await createOrder(server, looping.secretKey);
    const baseline = server.app.hub.listenerCount;
    const socket = await connectSocket(server.baseUrl, { apiKey: looping.secretKey });
    let moves = 0;
    try {
      let writing = true;
      const writer = (async () => {
        for (; writing; moves++) await setStatus(server, looping.secretKey, orderId, moves % 2 === 0 ? 'b' : 'a');
      })();
      try {
        for (let i = 0; i < 1000; i++) {
          await emitWithAck(socket, 'subscribe:order', { orderId });
          await emitWithAck(socket, 'unsubscribe:order', { orderId });
        }
      } finally {
        writing = false;
        await writer;
      }
      expect(moves).toBeGreaterThan(0);
      // Unsubscribed: the order's room and its hub listener are gone.
      await waitFor(() => server.app.hub.listenerCount === baseline, `the hub back to ${baseline} listeners`);
      expect(server.app.socketio.rooms.feedCount).toBe(0);

      // Subscribed once more: every later version, once each, in order.
      const versions: number[] = [];
      socket.on('order:update', (u) => versions.push(u.version));
      const ack = await emitWithAck(socket, 'subscribe:order', { orderId });
      for (let i = 0; i < 3; i++) await setStatus(server, looping.secretKey, orderId, (moves + i) % 2 === 0 ? 'b' : 'a');
      await waitFor(() => versions.length >= 3, 'three versions after the last subscribe');
      await emitWithAck(socket, 'unsubscribe:order', { orderId });
      expect(versions).toEqual([ack.version + 1, ack.version + 2, ack.version + 3]);
    } finally {
      socket.close();
    }
  });
});
