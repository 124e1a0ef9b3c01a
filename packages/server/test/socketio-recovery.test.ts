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

/** Cuts the transport under the client, as a network drop would: the client reconnects by itself. */
function dropTransport(socket: Socket): void {
  (socket.io as unknown as { engine: { close(): void } }).engine.close();
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
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await emitWithAck(client.socket, 'subscribe:order', { orderId });
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => client.versions.length === 1, 'version 2');

    // Keep the client from reconnecting until the server has seen the drop and the changes are written.
    client.socket.io.reconnection(false);
    dropTransport(client.socket);
    await waitFor(() => !client.socket.connected && server.app.socketio.connectionCount === 0, 'the drop');
    await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
    await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    client.socket.io.reconnection(true);
    client.socket.connect();

    await waitFor(() => client.versions.length === 3, 'the missed versions');
    expect(client.connects).toEqual([false, true]);
    expect(client.versions).toEqual([2, 3, 4]);
  });

  it('keeps a recovered order when the client subscribes again on connect (reference 000), without repeating a version', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    client.socket.on('connect', () => client.socket.emit('subscribe:order', { orderId }));
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => client.versions.length === 1, 'version 2');
    client.socket.io.reconnection(false);
    dropTransport(client.socket);
    await waitFor(() => server.app.socketio.connectionCount === 0, 'the drop');
    await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
    client.socket.io.reconnection(true);
    client.socket.connect();
    await waitFor(() => client.versions.length === 2, 'the missed version');
    await setStatus(server, project.secretKey, orderId, 'COMPLETED');
    await waitFor(() => client.versions.length === 3, 'the live version');
    expect(client.connects).toEqual([false, true]);
    expect(client.versions).toEqual([2, 3, 4]);
  });

  it('recovers the project feed of a secret key from the log', async () => {
    const client = follow(server, { apiKey: project.secretKey });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'the first connect');
    await emitWithAck(client.socket, 'subscribe:project');
    const first = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    await waitFor(() => client.versions.length === 1, 'the first order');
    client.socket.io.reconnection(false);
    dropTransport(client.socket);
    await waitFor(() => server.app.socketio.connectionCount === 0, 'the drop');
    await setStatus(server, project.secretKey, first, 'PROCESSING');
    const second = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    client.socket.io.reconnection(true);
    client.socket.connect();
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
    client.socket.io.reconnection(false);
    dropTransport(client.socket);
    await waitFor(() => server.app.socketio.connectionCount === 0, 'the drop');
    await setStatus(server, project.secretKey, orderId, 'PENDING_DELIVERY');
    const internals = client.socket as unknown as { _pid: string; _lastOffset: string };
    // Flip one character of the sealed checkpoint: authenticated encryption refuses it.
    const offset = internals._lastOffset;
    internals._lastOffset = offset.slice(0, 20) + (offset[20] === 'A' ? 'B' : 'A') + offset.slice(21);
    client.socket.io.reconnection(true);
    client.socket.connect();
    await waitFor(() => client.connects.length === 2, 'the second connect');
    expect(client.connects).toEqual([false, false]);
    // Prove nothing else comes: a change to an order this client follows afresh arrives, and alone.
    const other = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
    await emitWithAck(client.socket, 'subscribe:order', { orderId: other });
    await setStatus(server, project.secretKey, other, 'PROCESSING');
    await waitFor(() => client.versions.length === 2, 'the other order');
    expect(client.versions).toEqual([2, 2]);

    // A made-up pid and offset, sent by hand: a plain new connection.
    const forged = io(`${server.baseUrl}/ws`, {
      auth: { apiKey: project.secretKey, pid: 'x'.repeat(40), offset: 'y'.repeat(80) },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(forged);
    await new Promise<void>((resolve, reject) => {
      forged.once('connect', () => resolve());
      forged.once('connect_error', reject);
    });
    expect(forged.recovered).toBe(false);
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
    const mixed = io(`${server.baseUrl}/ws`, {
      auth: { apiKey: project.secretKey, pid, offset },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(mixed);
    await new Promise<void>((resolve, reject) => {
      mixed.once('connect', () => resolve());
      mixed.once('connect_error', reject);
    });
    expect(mixed.recovered).toBe(false);
  });

  it("will not resume another user's session, even with its genuine pid and checkpoint", async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'alice' });
    const alice = follow(server, { apiKey: project.publishableKey, token: await userToken(server, project.secretKey, 'alice') });
    sockets.push(alice.socket);
    await waitFor(() => alice.connects.length === 1, 'alice connects');
    await emitWithAck(alice.socket, 'subscribe:order', { orderId });
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    await waitFor(() => alice.versions.length === 1, 'version 2 for alice');
    const { _pid: pid, _lastOffset: offset } = alice.socket as unknown as { _pid: string; _lastOffset: string };
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

  it('does not recover when the credential has lapsed: the reconnect is refused', async () => {
    const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'bob' });
    const token = await userToken(server, project.secretKey, 'bob', 2);
    const expiresAtMs = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
    const client = follow(server, { apiKey: project.publishableKey, token });
    sockets.push(client.socket);
    await waitFor(() => client.connects.length === 1, 'bob connects');
    await emitWithAck(client.socket, 'subscribe:order', { orderId });
    client.socket.io.reconnection(false);
    dropTransport(client.socket);
    await waitFor(() => server.app.socketio.connectionCount === 0, 'the drop');
    await setStatus(server, project.secretKey, orderId, 'PROCESSING');
    // The token expires while the client is away (JWT expiry has one-second resolution).
    await waitFor(() => Date.now() > expiresAtMs + 1000, 'the token to expire', 5000);
    const refused = new Promise<Error>((resolve) => client.socket.once('connect_error', resolve));
    client.socket.connect();
    expect((await refused).message).toMatch(/expired/i);
    expect(client.connects).toEqual([false]);
    expect(client.versions).toEqual([]);
  });
});

describe('Socket.IO connection state recovery window', () => {
  it('does not recover a session away longer than ORDERCAST_WS_RECOVERY_WINDOW', async () => {
    const server = await startTestServer('sqlite', { ORDERCAST_WS_RECOVERY_WINDOW: '1s' });
    const project = await server.createProject('onramp');
    const client = follow(server, { apiKey: project.secretKey });
    try {
      const orderId = await createOrder(server, project.secretKey, { status: 'AWAITING_PAYMENT_FROM_USER' });
      await waitFor(() => client.connects.length === 1, 'the first connect');
      await emitWithAck(client.socket, 'subscribe:order', { orderId });
      const checkpointAt = Date.now();
      client.socket.io.reconnection(false);
      dropTransport(client.socket);
      await waitFor(() => server.app.socketio.connectionCount === 0, 'the drop');
      await setStatus(server, project.secretKey, orderId, 'PROCESSING');
      // The window, plus the renewal interval a connected session's checkpoint may be old at the drop.
      await waitFor(() => Date.now() > checkpointAt + 2500, 'the window to pass', 5000);
      client.socket.io.reconnection(true);
      client.socket.connect();
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
