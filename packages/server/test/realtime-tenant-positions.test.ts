import type { EventEmitter } from 'node:events';
import type { Subscription } from 'centrifuge';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAfter } from '../src/domain/order.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { createOrder, emitWithAck, newCentrifuge, setStatus, userToken, waitFor } from './helpers/realtime.js';
import { RecordingEventSource } from './helpers/sse.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A lifecycle that can loop, so one order can take as many changes as a test needs. */
const LOOP = { name: 'loop', statuses: ['a', 'b', 'done'], initial: ['a'], final: ['done'], transitions: { a: ['b', 'done'], b: ['a', 'done'] } };

/** What a sealed position looks like on the wire: 16 bytes in base64url, no number in sight. */
const SEALED = /^[\w-]{22}$/;

/** A stock socket.io-client, recording the offset that ends each `order:update` packet as it arrives on the wire. */
function socketIoClient(server: TestServer, auth: Record<string, unknown>) {
  const socket = io(`${server.baseUrl}/ws`, { auth, transports: ['websocket'], forceNew: true, reconnection: false });
  const offsets: string[] = [];
  const versions: number[] = [];
  socket.io.on('open', () => {
    const engine = (socket.io as unknown as { engine: EventEmitter }).engine;
    engine.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message' || typeof packet.data !== 'string' || !packet.data.includes('"order:update"')) return;
      const args = JSON.parse(packet.data.slice(packet.data.indexOf('['))) as unknown[];
      versions.push((args[1] as { version: number }).version);
      offsets.push(args[2] as string);
    });
  });
  return { socket, offsets, versions };
}

/** The log position of each version of an order after the first, as the database holds it. */
async function positionsOf(server: TestServer, orderId: string): Promise<Array<{ txId: number; seq: number }>> {
  const rows = await server.app.store.db
    .selectFrom('order_events')
    .select(['tx_id', 'seq'])
    .where('order_id', '=', orderId)
    .where('version', '>', 1)
    .orderBy('version')
    .execute();
  return rows.map((row) => ({ txId: Number(row.tx_id), seq: Number(row.seq) }));
}

describe.each(testDialects)('one tenant-scoped position on every channel (%s)', (dialect) => {
  let server: TestServer;
  let a: CreatedProject;
  let b: CreatedProject;
  const closers: Array<() => void> = [];

  beforeAll(async () => {
    server = await startTestServer(dialect);
    a = await server.createProject(LOOP, 'Tenant A');
    b = await server.createProject(LOOP, 'Tenant B');
  });
  afterAll(async () => {
    for (const close of closers.splice(0)) close();
    await server?.close();
  });

  it("tells tenant A's clients nothing of tenant B's volume: every value A receives moves only with A's own changes", async () => {
    const orderId = await createOrder(server, a.secretKey, { userExternalId: 'buyer' });
    // On PostgreSQL the log follower can still stand below the order's creation, held back by a transaction
    // another test file keeps open in the shared database; a project subscription made now would then get
    // the creation as its first update. The channels below are opened once the follower has passed it.
    const creation = await server.app.store.db
      .selectFrom('order_events')
      .select(['tx_id', 'seq'])
      .where('order_id', '=', orderId)
      .where('version', '=', 1)
      .executeTakeFirstOrThrow();
    const createdAt = { txId: Number(creation.tx_id), seq: Number(creation.seq) };
    await waitFor(() => !isAfter(createdAt, server.app.follower.current), "the log follower past the order's creation", 30_000);
    const token = await userToken(server, a.secretKey, 'buyer');

    // Socket.IO: a buyer's browser following the order, and the merchant's dashboard following the project.
    const buyerSocket = socketIoClient(server, { apiKey: token });
    const merchantSocket = socketIoClient(server, { apiKey: a.secretKey });
    closers.push(
      () => buyerSocket.socket.close(),
      () => merchantSocket.socket.close(),
    );
    await waitFor(() => buyerSocket.socket.connected && merchantSocket.socket.connected, 'both sockets to connect');
    await emitWithAck(buyerSocket.socket, 'subscribe:order', { orderId });
    await emitWithAck(merchantSocket.socket, 'subscribe:project');
    // Their rows are written: from here on each update ends with the event's shared position.
    await waitFor(async () => (await server.app.store.db.selectFrom('socketio_sessions').select('session_id').execute()).length === 2, 'both session rows');

    // Centrifuge: the buyer's user channel (server-side) and the order's channel (client-side).
    const centrifuge = newCentrifuge(server, { user_external_id: 'buyer', auth: token, project_id: a.project.id });
    closers.push(() => centrifuge.disconnect());
    const userChannel = { offsets: [] as number[], epochs: new Set<string>() };
    const orderChannel = { offsets: [] as number[], epochs: new Set<string>() };
    centrifuge.on('subscribed', (ctx) => ctx.streamPosition && userChannel.epochs.add(ctx.streamPosition.epoch));
    centrifuge.on('publication', (ctx) => userChannel.offsets.push(ctx.offset!));
    const sub: Subscription = centrifuge.newSubscription(`order:${orderId}`);
    sub.on('subscribed', (ctx) => ctx.streamPosition && orderChannel.epochs.add(ctx.streamPosition.epoch));
    sub.on('publication', (ctx) => orderChannel.offsets.push(ctx.offset!));
    sub.subscribe();
    centrifuge.connect();
    await waitFor(() => userChannel.epochs.size === 1 && orderChannel.epochs.size === 1, 'both Centrifuge channels');

    // Server-Sent Events: the order's stream and the user's (user token), the project's (secret key).
    const sseOrder = new RecordingEventSource(`${server.baseUrl}/api/v2/orders/${orderId}/stream?token=${encodeURIComponent(token)}`);
    const sseUser = new RecordingEventSource(`${server.baseUrl}/api/v2/stream?token=${encodeURIComponent(token)}`);
    const sseProject = new RecordingEventSource(`${server.baseUrl}/api/v2/stream`, { bearer: a.secretKey });
    closers.push(
      () => sseOrder.close(),
      () => sseUser.close(),
      () => sseProject.close(),
    );
    await waitFor(() => sseOrder.versions.length === 1 && sseUser.opened === 1 && sseProject.opened === 1, 'the three streams');

    // The events feed, read by a follower such as `ordercast listen`: one cursor per event.
    const feedCursors: string[] = [];
    let cursor = (await server.request('GET', '/api/v2/events?after=latest', { key: a.secretKey })).body.nextCursor as string;
    const readFeed = async () => {
      const page = await server.request('GET', `/api/v2/events?after=${cursor}&limit=1`, { key: a.secretKey });
      expect(page.status).toBe(200);
      expect(page.body.data).toHaveLength(1);
      cursor = page.body.nextCursor;
      feedCursors.push(cursor);
    };

    // What each channel has received of A's changes so far (the order's SSE stream also got the order as it opened).
    const received = () => ({
      buyerSocket: buyerSocket.offsets.length,
      merchantSocket: merchantSocket.offsets.length,
      centrifugeUser: userChannel.offsets.length,
      centrifugeOrder: orderChannel.offsets.length,
      sseOrder: sseOrder.versions.length - 1,
      sseUser: sseUser.ids.length,
      sseProject: sseProject.ids.length,
    });
    // On PostgreSQL a commit reaches the channels once no older transaction is open anywhere in the
    // database, and other test files hold transactions open for seconds: hence the longer wait.
    const everyChannelHas = async (count: number) => {
      try {
        await waitFor(() => Object.values(received()).every((n) => n === count), `change ${count} on every channel`, 30_000);
      } catch (error) {
        throw new Error(`${(error as Error).message}; received: ${JSON.stringify(received())}`);
      }
    };
    const move = async (status: string, count: number) => {
      await setStatus(server, a.secretKey, orderId, status);
      await everyChannelHas(count);
      await readFeed();
    };

    await move('b', 1);
    await move('a', 2);
    await move('b', 3);
    // Tenant B writes hundreds of changes meanwhile.
    for (let i = 0; i < 20; i++) {
      await Promise.all(Array.from({ length: 10 }, () => createOrder(server, b.secretKey)));
    }
    await move('a', 4);

    // Counters of A's own streams: consecutive across B's writes.
    expect(sseOrder.ids).toEqual(['1', '2', '3', '4', '5']);
    expect(sseUser.ids).toEqual(['2', '3', '4', '5']);
    expect(userChannel.offsets).toEqual([2, 3, 4, 5]);
    expect(orderChannel.offsets).toEqual([2, 3, 4, 5]);
    expect(userChannel.epochs.size).toBe(1);
    expect(orderChannel.epochs.size).toBe(1);
    expect(buyerSocket.versions).toEqual([2, 3, 4, 5]);

    // Positions in the log: one sealed type, the same token for one event on every channel of the project.
    const expected = (await positionsOf(server, orderId)).map((position) => server.app.positions.seal(a.project.id, position));
    expect(expected).toHaveLength(4);
    for (const value of [...buyerSocket.offsets, ...merchantSocket.offsets, ...sseProject.ids, ...feedCursors]) expect(value).toMatch(SEALED);
    // Each Socket.IO update names its own event's position, not the one before it.
    expect(buyerSocket.offsets).toEqual(expected);
    expect(merchantSocket.offsets).toEqual(expected);
    expect(sseProject.ids).toEqual(expected);
    expect(feedCursors).toEqual(expected);
    // None of them opens as a position of another tenant's log.
    for (const value of expected) expect(server.app.positions.open(b.project.id, value)).toBeUndefined();
  });

  it("answers another tenant's, altered, cut short, pre-upgrade and huge positions with a fresh start or a 4xx, never B's data or a 5xx", async () => {
    const orderOfB = await createOrder(server, b.secretKey);
    await setStatus(server, b.secretKey, orderOfB, 'b');
    const [positionOfB] = await positionsOf(server, orderOfB);
    const cursorOfB = server.app.positions.seal(b.project.id, positionOfB!);
    const cursorOfA = (await server.request('GET', '/api/v2/events?after=latest', { key: a.secretKey })).body.nextCursor as string;
    const altered = cursorOfA.slice(0, -2) + (cursorOfA.endsWith('AA') ? 'BA' : 'AA');
    const bad = [cursorOfB, altered, cursorOfA.slice(0, -1), `${cursorOfA}A`, `${positionOfB!.txId}.${positionOfB!.seq}.AAAAAAAAAAAAAAAA`, '9'.repeat(60)];

    for (const value of bad) {
      const feed = await server.request('GET', `/api/v2/events?after=${encodeURIComponent(value)}`, { key: a.secretKey });
      expect(feed.status, value).toBe(400);
      expect(feed.body.error.code).toBe('invalid_cursor');
      const stream = await fetch(`${server.baseUrl}/api/v2/stream`, { headers: { authorization: `Bearer ${a.secretKey}`, 'last-event-id': value } });
      expect(stream.status, value).toBe(400);
      expect((await stream.json()).error.code).toBe('invalid_last_event_id');
    }
    const huge = await fetch(`${server.baseUrl}/api/v2/stream`, { headers: { authorization: `Bearer ${a.secretKey}`, 'last-event-id': 'x'.repeat(10_000) } });
    expect(huge.status).toBe(400);
    expect(await server.request('GET', `/api/v2/events?after=${'x'.repeat(5000)}`, { key: a.secretKey })).toMatchObject({ status: 400 });

    // Socket.IO: a genuine session of A, reconnecting with each bad offset, starts afresh and gets nothing of B.
    const orderOfA = await createOrder(server, a.secretKey);
    const client = socketIoClient(server, { apiKey: a.secretKey });
    closers.push(() => client.socket.close());
    await waitFor(() => client.socket.connected, 'the socket');
    await emitWithAck(client.socket, 'subscribe:order', { orderId: orderOfA });
    const { _pid: pid } = client.socket as unknown as { _pid: string };
    for (const offset of [...bad, 'x'.repeat(40_000)]) {
      const socket: Socket = io(`${server.baseUrl}/ws`, {
        auth: { apiKey: a.secretKey },
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        autoConnect: false,
      });
      closers.push(() => socket.close());
      const received: unknown[] = [];
      socket.on('order:update', (update) => received.push(update));
      Object.assign(socket, { _pid: pid, _lastOffset: offset });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
        socket.connect();
      });
      expect(socket.recovered, offset.slice(0, 40)).toBe(false);
      // A round trip: anything a recovery would have sent comes before the ack.
      await emitWithAck(socket, 'unsubscribe:project');
      expect(received).toEqual([]);
      socket.close();
    }
  });
});
