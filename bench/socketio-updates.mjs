#!/usr/bin/env node
// Server CPU per delivered Socket.IO `order:update`, recovery on (not part of `npm run bench`):
// `node bench/socketio-updates.mjs [--clients N] [--orders N] [--transitions N]`.
// N clients (default 2,000) follow one of the orders each (default 20, so 100 clients an
// order), then the orders change status N times (default 400, at most one change of an
// order in flight). CPU is the server's user + system time (/proc/<pid>/stat) from the
// first transition to the last update received; it includes serving the writes.
import { io } from 'socket.io-client';
import { cpuSeconds } from './lib/cpu.mjs';
import { createPingPongProject } from './lib/ping-pong-project.mjs';
import { startOrdercast, tempDir } from './lib/processes.mjs';
import { seedOrders } from './lib/seed.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const clientCount = arg('clients', 2000);
const orderCount = arg('orders', 20);
const transitions = arg('transitions', 400);
// The event's log position, sealed for the project (services/tenant-position.ts).
const POSITION_OFFSET = /^[\w-]{22}$/;

const { dir: dataDir, remove } = tempDir('socketio-updates');
const project = await createPingPongProject(dataDir);
const server = await startOrdercast({ dataDir, env: { ORDERCAST_WS_HANDSHAKE_RATE: '0' } });
const sockets = [];
try {
  const orderIds = await seedOrders(server.baseUrl, project.secretKey, orderCount, () => ({ status: 'ping' }));
  let received = 0;
  let shared = 0;
  for (let i = 0; i < clientCount; i++) {
    const socket = io(`${server.baseUrl}/ws`, { auth: { apiKey: project.secretKey }, transports: ['websocket'], forceNew: true });
    socket.on('order:update', (_update, offset) => {
      received++;
      if (typeof offset === 'string' && POSITION_OFFSET.test(offset)) shared++;
    });
    sockets.push(socket);
  }
  await Promise.all(
    sockets.map((s, i) => new Promise((resolve) => s.once('connect', () => s.emit('subscribe:order', { orderId: orderIds[i % orderCount] }, resolve)))),
  );
  // Let the subscriptions' rows be written before counting.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const statuses = orderIds.map(() => 'ping');
  const cpuBefore = cpuSeconds(server.pid);
  const started = Date.now();
  let next = 0;
  await Promise.all(
    orderIds.map(async (orderId, o) => {
      for (;;) {
        if (next >= transitions) return;
        next++;
        const status = statuses[o] === 'ping' ? 'pong' : 'ping';
        const res = await fetch(`${server.baseUrl}/api/v2/orders/${orderId}/status`, {
          method: 'POST',
          headers: { authorization: `Bearer ${project.secretKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ status }),
        });
        if (res.status !== 200) throw new Error(`transition failed: ${res.status} ${await res.text()}`);
        statuses[o] = status;
      }
    }),
  );
  const expected = (transitions * clientCount) / orderCount;
  while (received < expected) {
    if (Date.now() - started > 120_000) throw new Error(`only ${received} of ${expected} updates arrived`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  console.log(
    JSON.stringify({
      clients: clientCount,
      orders: orderCount,
      transitions,
      delivered: received,
      sharedOffsets: shared,
      serverCpuSeconds: Number(cpu.toFixed(2)),
      cpuPerDeliveredUs: Number(((cpu / received) * 1e6).toFixed(1)),
    }),
  );
} finally {
  for (const s of sockets) s.close();
  await server.stop();
  remove();
}
