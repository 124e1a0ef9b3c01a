import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, buildServer, cli, freePort, redisUrlForTests } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

const quiet = { ORDERCAST_RATE_LIMIT: '0', ORDERCAST_WS_HANDSHAKE_RATE: '0' };

/** The offset shared by every socket an event goes to: its log position, sealed for the project. */
const POSITION_OFFSET = /^[\w-]{22}$/;

/** The last offset socket.io-client received (what it sends back to recover). */
function lastOffset(socket: Socket): string | undefined {
  return (socket as unknown as { _lastOffset?: string })._lastOffset;
}

/** A TCP load balancer of one backend at a time: `target` says where new connections go. */
async function balancer(): Promise<{ url: string; target: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const lb = {
    url: '',
    target: 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(lb.target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  lb.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return lb;
}

describe('Socket.IO connection state recovery across a server crash', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  let socket: Socket | undefined;

  beforeAll(() => {
    buildServer();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-sio-recovery-'));
  });
  afterAll(async () => {
    socket?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a stock client is recovered after SIGKILL and restart, with the change the CLI wrote while the server was down', async () => {
    const project = await cli(['projects', 'create', '--name', 'Crash', '--lifecycle', 'onramp', '--json', '--data-dir', dataDir]);
    const port = await freePort();
    const serve = () => startServerProcess(['--no-demo', '--port', String(port), '--data-dir', dataDir], quiet);
    server = await serve();
    const order = await api(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', { status: 'AWAITING_PAYMENT_FROM_USER', userExternalId: 'u1' });

    // Reference 000, as an app writes it: subscribe on every connect, no sinceVersion.
    socket = io(`${server.baseUrl}/ws`, { auth: { apiKey: project.secretKey }, transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 300 });
    const connects: boolean[] = [];
    const versions: number[] = [];
    socket.on('connect', () => {
      connects.push(socket!.recovered);
      if (!socket!.recovered) socket!.emit('subscribe:order', { orderId: order.id });
    });
    socket.on('order:update', (update) => versions.push(update.version));
    await waitFor(() => connects.length === 1, 'the first connect');
    // The subscription is in the session's row once the server has sent its first offset (before the ack).
    await waitFor(() => typeof lastOffset(socket!) === 'string', 'the first offset');
    await api(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    await waitFor(() => versions.length === 1, 'version 2');
    // The offset every follower of the order got (its log position): the restarted server reads the session from its row.
    expect(lastOffset(socket)).toMatch(POSITION_OFFSET);

    expect(await server.stop('SIGKILL')).toBe(null);
    await cli(['orders', 'transition', order.id, 'PENDING_DELIVERY', '--project', project.id, '--data-dir', dataDir, '--json']);
    server = await serve();

    await waitFor(() => versions.length === 2, 'the version written while the server was down', 20_000);
    expect(connects).toEqual([false, true]);
    await api(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'COMPLETED' });
    await waitFor(() => versions.length === 3, 'the live version after recovery');
    expect(versions).toEqual([2, 3, 4]);
  });

  // Two nodes on one SQLite file must share events through Redis (a second server without it is refused at start).
  it.skipIf(!redisUrlForTests())('a client moved to another node by the load balancer is recovered there', async () => {
    // A data directory of its own: the previous test's server (without Redis) may still hold the other one.
    const shared = path.join(dataDir, 'two-nodes');
    const project = await cli(['projects', 'create', '--name', 'Move', '--lifecycle', 'onramp', '--json', '--data-dir', shared]);
    // Two nodes on one database (one SQLite file, joined by Redis): each reads the log the other writes.
    const node = ['--no-demo', '--data-dir', shared, '--redis-url', redisUrlForTests()!];
    const a = await startServerProcess(node, quiet);
    const b = await startServerProcess(node, quiet);
    const lb = await balancer();
    try {
      lb.target = Number(new URL(a.baseUrl).port);
      const order = await api(a.baseUrl, project.secretKey, 'POST', '/api/v2/orders', { status: 'AWAITING_PAYMENT_FROM_USER' });
      const client = io(`${lb.url}/ws`, { auth: { apiKey: project.secretKey }, transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 300 });
      const connects: boolean[] = [];
      const versions: number[] = [];
      client.on('connect', () => connects.push(client.recovered));
      client.on('order:update', (update) => versions.push(update.version));
      try {
        await waitFor(() => connects.length === 1, 'the first connect');
        await client.timeout(5000).emitWithAck('subscribe:order', { orderId: order.id });
        await api(a.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
        await waitFor(() => versions.length === 1, 'version 2 from node A');
        expect(lastOffset(client)).toMatch(POSITION_OFFSET);

        lb.target = Number(new URL(b.baseUrl).port);
        await a.stop('SIGKILL');
        await api(b.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'PENDING_DELIVERY' });
        await waitFor(() => versions.length === 2, 'the missed version from node B', 20_000);
        expect(connects).toEqual([false, true]);
        await api(b.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'COMPLETED' });
        await waitFor(() => versions.length === 3, 'the live version from node B');
        expect(versions).toEqual([2, 3, 4]);
      } finally {
        client.close();
      }
    } finally {
      await lb.close();
      await a.stop();
      await b.stop();
    }
  });
});
