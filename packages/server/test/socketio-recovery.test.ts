import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { createOrder, emitWithAck, setStatus, userToken, waitFor } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A stock socket.io-client that reconnects by itself, as an app would use it. */
function follow(server: TestServer, auth: Record<string, unknown>) {
  const socket = io(`${server.baseUrl}/ws`, { auth, transports: ['websocket'], forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 200 });
  const versions: number[] = [];
  const connects: boolean[] = [];
  socket.on('order:update', (update) => versions.push(update.version));
  socket.on('connect', () => connects.push(socket.recovered));
  return { socket, versions, connects };
}

type Client = ReturnType<typeof follow>;

/** What socket.io-client keeps for recovery: the session id and the last offset it received. */
function recoveryState(socket: Socket): { _pid: string; _lastOffset: string } {
  return socket as unknown as { _pid: string; _lastOffset: string };
}

/** The offset shared by every socket an event goes to: its log position, sealed for the project (16 bytes, base64url). */
const POSITION_OFFSET = /^[\w-]{22}$/;

/**
 * Cuts the transport under the client, as a network drop would, and keeps it from
 * reconnecting until the server has seen the drop and `whileAway` has run (changes
 * written meanwhile are what recovery must bring); then lets it reconnect by itself.
 */
async function dropAndReconnect(server: TestServer, client: Client, whileAway: () => Promise<void> = async () => {}): Promise<void> {
  client.socket.io.reconnection(false);
  (client.socket.io as unknown as { engine: { close(): void } }).engine.close();
  await waitFor(() => !client.socket.connected && server.app.socketio.connectionCount === 0, 'the drop');
  await whileAway();
  client.socket.io.reconnection(true);
  client.socket.connect();
}

/** Connects once, by hand, as socket.io-client reconnects: sending back `pid` and `offset`; resolves once connected. */
async function connectWith(server: TestServer, sockets: Socket[], apiKey: string, pid: string, offset: unknown): Promise<Socket> {
  const socket = io(`${server.baseUrl}/ws`, { auth: { apiKey }, transports: ['websocket'], forceNew: true, reconnection: false, autoConnect: false });
  sockets.push(socket);
  Object.assign(socket, { _pid: pid, _lastOffset: offset });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
    socket.connect();
  });
  return socket;
}

/** Resolves once `count` sessions' rows name the order (the server writes them after each subscribe). */
async function rowsFollowing(server: TestServer, orderId: string, count: number): Promise<void> {
  await waitFor(async () => {
    const rows = await server.app.store.db.selectFrom('socketio_sessions').select('subscriptions').execute();
    return rows.filter((row) => row.subscriptions.includes(`"${orderId}"`)).length === count;
  }, `${count} session rows following ${orderId}`);
}

/** A socket following a new order through one change (version 2), with its session row written. */
async function followOneUpdatedOrder(server: TestServer, secretKey: string) {
  const orderId = await createOrder(server, secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
  const client = follow(server, { apiKey: secretKey });
  await waitFor(() => client.connects.length === 1, 'the first connect');
  await emitWithAck(client.socket, 'subscribe:order', { orderId });
  await rowsFollowing(server, orderId, 1);
  await setStatus(server, secretKey, orderId, 'PROCESSING');
  await waitFor(() => client.versions.length === 1, 'version 2');
  return { orderId, client };
}

describe.each(testDialects)('Socket.IO connection state recovery (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = await startTestServer(dialect);
    project = await server.createProject('onramp');
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await waitFor(() => server.app.socketio.connectionCount === 0, 'the sockets of the last test to close');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('after a dropped connection, reconnects with recovered === true and gets every missed update without subscribing again', async () => {
    const { orderId, client } = await followOneUpdatedOrder(server, project.secretKey);
    sockets.push(client.socket);
    // Recovery from the event's log position and the session's row.
    expect(recoveryState(client.socket)._lastOffset).toMatch(POSITION_OFFSET);

    await dropAndReconnect(server, client, async () => {
      await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
      await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    });

    await waitFor(() => client.versions.length === 3, 'the missed versions');
    expect(client.connects).toEqual([false, true]);
    expect(client.versions).toEqual([2, 3, 4]);
  });

  it('ends an order:update with the same bytes on every socket that follows the order, its offset a log position', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const [one, two] = [follow(server, { apiKey: project.secretKey }), follow(server, { apiKey: project.secretKey })];
    sockets.push(one.socket, two.socket);
    await waitFor(() => one.connects.length === 1 && two.connects.length === 1, 'both connect');
    const packets: string[][] = [[], []];
    for (const [i, client] of [one, two].entries()) {
      const engine = (client.socket.io as unknown as { engine: import('node:events').EventEmitter }).engine;
      engine.on('packet', (packet: { type: string; data?: unknown }) => {
        if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.includes('"order:update"')) packets[i]!.push(packet.data);
      });
      await emitWithAck(client.socket, 'subscribe:order', { orderId });
    }
    await rowsFollowing(server, orderId, 2);
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => packets[0]!.length === 1 && packets[1]!.length === 1, 'version 2 on both');
    expect(packets[0]).toEqual(packets[1]);
    expect(recoveryState(one.socket)._lastOffset).toMatch(POSITION_OFFSET);
    expect(recoveryState(one.socket)._lastOffset).toBe(recoveryState(two.socket)._lastOffset);
  });

  it('recovers a subscription made just before the drop, before any update reached the client', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await emitWithAck(client.socket, 'subscribe:order', { orderId });
    await dropAndReconnect(server, client, () => setStatus(server, project.secretKey, orderId, 'PROCESSING'));
    await waitFor(() => client.versions.length === 1, 'the missed version');
    expect(client.connects).toEqual([false, true]);
    await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
    await waitFor(() => client.versions.length === 2, 'the live version');
    expect(client.versions).toEqual([2, 3]);
  });

  it('does not resume an order unsubscribed before the drop', async () => {
    const [kept, dropped] = [
      await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' }),
      await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' }),
    ];
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'the first connect');
    const seen: string[] = [];
    client.socket.on('order:update', (u) => seen.push(`${u.orderId === kept ? 'kept' : 'dropped'}@${u.version}`));
    await emitWithAck(client.socket, 'subscribe:order', { orderId: kept });
    await emitWithAck(client.socket, 'subscribe:order', { orderId: dropped });
    await rowsFollowing(server, dropped, 1);
    await setStatus(server, project.secretKey, kept, 'PROCESSING');
    await setStatus(server, project.secretKey, dropped, 'PROCESSING');
    await waitFor(() => seen.length === 2, 'version 2 of both');
    expect(recoveryState(client.socket)._lastOffset).toMatch(POSITION_OFFSET);
    await emitWithAck(client.socket, 'unsubscribe:order', { orderId: dropped });
    await dropAndReconnect(server, client, async () => {
      await setStatus(server, project.secretKey, dropped, 'PENDING_DELIVERY');
      await setStatus(server, project.secretKey, kept, 'PENDING_DELIVERY');
    });
    await waitFor(() => seen.length === 3, 'the missed version of the kept order');
    expect(client.connects).toEqual([false, true]);
    // A ping-pong through the server: anything recovery would have sent comes before the ack.
    await emitWithAck(client.socket, 'unsubscribe:project');
    expect(seen).toEqual(['kept@2', 'dropped@2', 'kept@3']);
  });

  it('keeps a recovered order when the client subscribes again on connect (reference 000), without repeating a version', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    client.socket.on('connect', () => client.socket.emit('subscribe:order', { orderId }));
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => client.versions.length === 1, 'version 2');
    await dropAndReconnect(server, client, () => setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY'));
    await waitFor(() => client.versions.length === 2, 'the missed version');
    await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    await waitFor(() => client.versions.length === 3, 'the live version');
    expect(client.connects).toEqual([false, true]);
    expect(client.versions).toEqual([2, 3, 4]);
  });

  it('ends updates replayed from the log with no position, and the first live one after them with its own', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    const offsets: unknown[] = [];
    client.socket.on('order:update', (_update, offset) => offsets.push(offset));
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await emitWithAck(client.socket, 'subscribe:order', { orderId, sinceVersion: 1 });
    await waitFor(() => client.versions.length === 2, 'the replayed versions');
    await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    await waitFor(() => client.versions.length === 3, 'the live version');
    expect(client.versions).toEqual([2, 3, 4]);
    // A replayed event may be ahead of what the server has handed out live: a drop then is a new session.
    expect(offsets.slice(0, 2)).toEqual(['', '']);
    expect(offsets[2]).toMatch(POSITION_OFFSET);
    await dropAndReconnect(server, client);
    await waitFor(() => client.connects.length === 2, 'the reconnect');
    expect(client.connects).toEqual([false, true]);
    await emitWithAck(client.socket, 'unsubscribe:project');
    expect(client.versions).toEqual([2, 3, 4]);
  });

  it('recovers the project feed of a secret key from the log', async () => {
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await emitWithAck(client.socket, 'subscribe:project');
    const first = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    await waitFor(() => client.versions.length === 1, 'the first order');
    let second = '';
    await dropAndReconnect(server, client, async () => {
      await setStatus(server, project.secretKey, first, 'PROCESSING');
      second = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    });
    await waitFor(() => client.versions.length === 3, 'the missed events');
    expect(client.connects).toEqual([false, true]);
    const seen: string[] = [];
    client.socket.on('order:update', (u) => seen.push(`${u.orderId}@${u.version}`));
    await setStatus(server, project.secretKey, second, 'PROCESSING');
    await waitFor(() => seen.length === 1, 'a live event after recovery');
    expect(seen).toEqual([`${second}@2`]);
  });

  it('refuses a forged or tampered session: a new session, recovered === false, nothing of the order', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await emitWithAck(client.socket, 'subscribe:order', { orderId });
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => client.versions.length === 1, 'version 2');
    await dropAndReconnect(server, client, async () => {
      await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
      // Change the last character of the offset (a sealed log position): it no longer opens.
      const internals = recoveryState(client.socket);
      const offset = internals._lastOffset;
      internals._lastOffset = offset.slice(0, -1) + (offset.endsWith('A') ? 'B' : 'A');
    });
    await waitFor(() => client.connects.length === 2, 'the second connect');
    expect(client.connects).toEqual([false, false]);
    // Prove nothing else comes: a change to an order this client follows afresh arrives, and alone.
    const other = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    await emitWithAck(client.socket, 'subscribe:order', { orderId: other });
    await setStatus(server, project.secretKey, other, 'PROCESSING');
    await waitFor(() => client.versions.length === 2, 'the other order');
    expect(client.versions).toEqual([2, 2]);

    // A made-up pid and offset, sent by hand: a plain new connection.
    const forged = await connectWith(server, sockets, project.secretKey, 'x'.repeat(40), 'y'.repeat(80));
    expect(forged.recovered).toBe(false);
  });

  it('answers malformed, oversized, forged or orphaned offsets with a new session, never an error', async () => {
    const { orderId, client } = await followOneUpdatedOrder(server, project.secretKey);
    sockets.push(client.socket);
    const { _pid: pid, _lastOffset: genuine } = recoveryState(client.socket);
    expect(genuine).toMatch(POSITION_OFFSET);
    // The session's row is keyed by the pid's hash: reading the table gives no pid to recover with.
    const keys = (await server.app.store.db.selectFrom('socketio_sessions').select('session_id').execute()).map((row) => row.session_id);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys).not.toContain(pid);
    const offsets: unknown[] = [
      'z'.repeat(40_000),
      genuine.slice(0, -1),
      `${genuine}A`,
      genuine.slice(0, -2) + (genuine.endsWith('AA') ? 'BA' : 'AA'),
      `${'9'.repeat(30)}.1.AAAAAAAAAAAAAAAA`,
      // Positions from before they were sealed: a fresh start.
      '0.1.AAAAAAAAAAAAAAAA',
      '{"orders":[]}',
      '',
      12345,
      { txId: 0, seq: 1 },
    ];
    for (const offset of offsets) {
      const socket = await connectWith(server, sockets, project.secretKey, pid, offset);
      expect(socket.recovered, `offset ${JSON.stringify(offset).slice(0, 40)}`).toBe(false);
      socket.close();
    }
    // The genuine pair still works; once the session's row is gone (expired, pruned), the same pair does not.
    const claimedAt = async () =>
      Number(
        (await server.app.store.db.selectFrom('socketio_sessions').select('connected_at').where('subscriptions', 'like', `%"${orderId}"%`).executeTakeFirst())
          ?.connected_at,
      );
    const before = await claimedAt();
    const again = await connectWith(server, sockets, project.secretKey, pid, genuine);
    expect(again.recovered).toBe(true);
    await waitFor(async () => (await claimedAt()) > before, 'the recovered connection to take over the row');
    again.close();
    await server.app.store.db.deleteFrom('socketio_sessions').where('subscriptions', 'like', `%"${orderId}"%`).execute();
    const orphaned = await connectWith(server, sockets, project.secretKey, pid, genuine);
    expect(orphaned.recovered).toBe(false);
  });

  it('will not pair the session id of one connection with the checkpoint of another', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const [one, two] = [follow(server, { apiKey: project.secretKey }), follow(server, { apiKey: project.secretKey })];
    sockets.push(one.socket, two.socket);
    await waitFor(() => one.connects.length === 1 && two.connects.length === 1, 'both connect');
    await emitWithAck(two.socket, 'subscribe:order', { orderId });
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => two.versions.length === 1, 'version 2 on the second');
    const { _pid: pid } = one.socket as unknown as { _pid: string };
    const { _lastOffset: offset } = two.socket as unknown as { _lastOffset: string };
    // A log position is no secret of one session (every follower of the order got it), so the pid decides:
    // the first connection never subscribed, so it has no session row to resume.
    const mixed = await connectWith(server, sockets, project.secretKey, pid, offset);
    expect(mixed.recovered).toBe(false);
  });

  it("will not resume another user's session, even with its genuine pid and offset", async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'alice' });
    const alice = follow(server, { apiKey: project.publishableKey, token: await userToken(server, project.secretKey, 'alice') });
    sockets.push(alice.socket);
    await waitFor(() => alice.connects.length === 1, 'alice connects');
    await emitWithAck(alice.socket, 'subscribe:order', { orderId });
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => alice.versions.length === 1, 'version 2 for alice');
    const { _pid: pid, _lastOffset: offset } = recoveryState(alice.socket);
    await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');

    const mallory = io(`${server.baseUrl}/ws`, {
      auth: { apiKey: project.publishableKey, token: await userToken(server, project.secretKey, 'mallory'), pid, offset },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(mallory);
    const received: unknown[][] = [];
    mallory.onAny((event, ...args) => received.push([event, ...args]));
    await new Promise<void>((resolve, reject) => {
      mallory.once('connect', () => resolve());
      mallory.once('connect_error', reject);
    });
    expect(mallory.recovered).toBe(false);
    // A ping-pong through the server: anything recovery would have sent comes before the ack.
    await emitWithAck(mallory, 'unsubscribe:project').catch(() => undefined);
    expect(received.filter(([event]) => event === 'order:update')).toEqual([]);
  });

  it("gives a buyer recovery offsets that move only with the buyer's own orders, not with other users' changes", async () => {
    const [mine, later, theirs] = [
      await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'carol' }),
      await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'carol' }),
      await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'dave' }),
    ];
    // Someone follows dave's order, so its changes go through this node's rooms.
    const merchant = follow(server, { apiKey: project.secretKey });
    const carol = follow(server, { apiKey: project.publishableKey, token: await userToken(server, project.secretKey, 'carol') });
    sockets.push(merchant.socket, carol.socket);
    await waitFor(() => merchant.connects.length === 1 && carol.connects.length === 1, 'both connect');
    await emitWithAck(merchant.socket, 'subscribe:order', { orderId: theirs });
    const checkpoints: string[] = [];
    carol.socket.on('recovery:checkpoint', (offset: string) => checkpoints.push(offset));
    await emitWithAck(carol.socket, 'subscribe:order', { orderId: mine });
    await setStatus(server, project.secretKey, mine, 'PROCESSING');
    await waitFor(() => carol.versions.length === 1, "version 2 of carol's order");
    const ownOffset = recoveryState(carol.socket)._lastOffset;
    expect(ownOffset).toMatch(POSITION_OFFSET);
    // Dave's order moves; carol subscribes to another order of hers: her offset is still her own order's position.
    await setStatus(server, project.secretKey, theirs, 'PROCESSING');
    await setStatus(server, project.secretKey, theirs, 'PENDING_DELIVERY');
    await waitFor(() => merchant.versions.length === 2, "dave's changes");
    await emitWithAck(carol.socket, 'subscribe:order', { orderId: later });
    expect(checkpoints.at(-1)).toBe(ownOffset);
    expect(carol.versions).toEqual([2]);
  });

  it('does not recover when the credential has lapsed: the reconnect is refused', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'bob' });
    const token = await userToken(server, project.secretKey, 'bob', 2);
    const expiresAtMs = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const client = follow(server, { apiKey: project.publishableKey, token });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'bob connects');
    await emitWithAck(client.socket, 'subscribe:order', { orderId });
    const refused = new Promise<Error>((resolve) => client.socket.once('connect_error', resolve));
    await dropAndReconnect(server, client, async () => {
      await setStatus(server, project.secretKey, orderId, 'PROCESSING');
      // The token expires while the client is away (JWT expiry has one-second resolution).
      await waitFor(() => Date.now() > expiresAtMs + 1000, 'the token to expire', 5000);
    });
    expect((await refused).message).toMatch(/expired/i);
    expect(client.connects).toEqual([false]);
    expect(client.versions).toEqual([]);
  });
});

describe('Socket.IO connection state recovery without its session rows', () => {
  it('delivers live when the session row cannot be written; a reconnect is a new session, and sinceVersion catches up', async () => {
    const server = await startTestServer('sqlite');
    const project = await server.createProject('onramp');
    const client = follow(server, { apiKey: project.secretKey });
    try {
      const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
      // Every write of a session row fails from now on, as with a database that refuses writes.
      await server.app.store.db.schema.dropTable('socketio_sessions').execute();
      await waitFor(() => client.connects.length === 1, 'the first connect');
      let lastVersion = 0;
      client.socket.on('order:update', (update) => (lastVersion = update.version));
      client.socket.on('connect', () => {
        if (!client.socket.recovered) client.socket.emit('subscribe:order', { orderId, sinceVersion: lastVersion || undefined });
      });
      await emitWithAck(client.socket, 'subscribe:order', { orderId });
      await setStatus(server, project.secretKey, orderId, 'PROCESSING');
      await waitFor(() => client.versions.length === 1, 'version 2, live');
      // No position to recover from: the row does not say what this session follows.
      expect(recoveryState(client.socket)._lastOffset).toBe('');
      await dropAndReconnect(server, client, () => setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY'));
      await waitFor(() => client.versions.length === 2, 'the missed version, replayed after sinceVersion');
      expect(client.connects).toEqual([false, false]);
      await setStatus(server, project.secretKey, orderId, 'COMPLETED');
      await waitFor(() => client.versions.length === 3, 'the live version after the reconnect');
      expect(client.versions).toEqual([2, 3, 4]);
    } finally {
      client.socket.close();
      await server.close();
    }
  });
});

describe('Socket.IO connection state recovery window', () => {
  it('does not recover from a log position once the session row has outlived the window', async () => {
    const server = await startTestServer('sqlite', { ORDERCAST_WS_RECOVERY_WINDOW: '1s' });
    const project = await server.createProject('onramp');
    const { orderId, client } = await followOneUpdatedOrder(server, project.secretKey);
    try {
      expect(recoveryState(client.socket)._lastOffset).toMatch(POSITION_OFFSET);
      const droppedAt = Date.now();
      await dropAndReconnect(server, client, async () => {
        await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
        // The window, plus the renewal interval the row's expiry may be ahead of the drop.
        await waitFor(() => Date.now() > droppedAt + 2500, 'the window to pass', 5000);
      });
      await waitFor(() => client.connects.length === 2, 'the reconnect');
      expect(client.connects).toEqual([false, false]);
      await emitWithAck(client.socket, 'unsubscribe:project');
      expect(client.versions).toEqual([2]);
    } finally {
      client.socket.close();
      await server.close();
    }
  });

  it('with ORDERCAST_WS_RECOVERY_WINDOW=0, sends updates without an offset, and a reconnect is a new session', async () => {
    const server = await startTestServer('sqlite', { ORDERCAST_WS_RECOVERY_WINDOW: '0' });
    const project = await server.createProject('onramp');
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const client = follow(server, { apiKey: project.secretKey });
    try {
      const updates: unknown[][] = [];
      client.socket.on('order:update', (...args) => updates.push(args));
      await waitFor(() => client.connects.length === 1, 'the first connect');
      await emitWithAck(client.socket, 'subscribe:order', { orderId });
      await setStatus(server, project.secretKey, orderId, 'PROCESSING');
      await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
      await waitFor(() => client.versions.length === 2, 'versions 2 and 3');
      // The first from the subscription on its own, the second from the order's room: the update alone, each time.
      expect(updates.map((args) => args.length)).toEqual([1, 1]);
      expect(recoveryState(client.socket)._pid).toBeUndefined();
      await dropAndReconnect(server, client);
      await waitFor(() => client.connects.length === 2, 'the reconnect');
      // Without a pid, socket.io-client leaves `recovered` unset.
      expect(client.connects.map(Boolean)).toEqual([false, false]);
      expect(await server.app.store.db.selectFrom('socketio_sessions').select('session_id').execute()).toEqual([]);
    } finally {
      client.socket.close();
      await server.close();
    }
  });

  it('does not recover a session away longer than ORDERCAST_WS_RECOVERY_WINDOW', async () => {
    const server = await startTestServer('sqlite', { ORDERCAST_WS_RECOVERY_WINDOW: '1s' });
    const project = await server.createProject('onramp');
    const client = follow(server, { apiKey: project.secretKey });
    try {
      const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
      await waitFor(() => client.connects.length === 1, 'the first connect');
      await emitWithAck(client.socket, 'subscribe:order', { orderId });
      // The offset sent with the subscribe's ack: a position, with the session's row.
      expect(recoveryState(client.socket)._lastOffset).toMatch(POSITION_OFFSET);
      const droppedAt = Date.now();
      await dropAndReconnect(server, client, async () => {
        await setStatus(server, project.secretKey, orderId, 'PROCESSING');
        // The window, plus the renewal interval the row's expiry may be ahead of the drop.
        await waitFor(() => Date.now() > droppedAt + 2500, 'the window to pass', 5000);
      });
      await waitFor(() => client.connects.length === 2, 'the reconnect');
      expect(client.connects).toEqual([false, false]);
      await emitWithAck(client.socket, 'unsubscribe:project');
      expect(client.versions).toEqual([]);
    } finally {
      client.socket.close();
      await server.close();
    }
  });
});
