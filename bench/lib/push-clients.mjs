// Push benchmark clients, in their own process. Reads a plan (JSON file named on argv):
//   { kind: 'socketio' | 'centrifuge' | 'bare' | 'durable', url, secretKey?, projectId?, clients: [{ orderId, userExternalId?, token? }] }
// opens one connection per client, prints "ready <n>", records commit-to-receipt latency
// for every update, and on "stop" (stdin) prints one JSON line of results and exits. On
// "mark" it forgets the latencies so far (a warm-up) and prints "marked"; versions are
// still checked for gaps and repeats across the mark.
import { readFileSync } from 'node:fs';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const latencies = [];
const lastVersion = new Map();
let gaps = 0;
let duplicates = 0;
let failures = 0;
let firstFailure;
const fail = (why) => {
  failures++;
  firstFailure ??= why;
};
const closers = [];

function record(orderId, version, committedAt) {
  latencies.push(performance.timeOrigin + performance.now() - Date.parse(committedAt));
  const last = lastVersion.get(orderId);
  if (last !== undefined) {
    if (version <= last) duplicates++;
    else if (version > last + 1) gaps++;
  }
  if (last === undefined || version > last) lastVersion.set(orderId, version);
}

function connectSocketIo(client) {
  return new Promise((resolve) => {
    const socket = io(`${plan.url}/ws`, { transports: ['websocket'], auth: { apiKey: plan.secretKey }, reconnection: false });
    closers.push(() => socket.close());
    socket.on('order:update', (u) => record(u.orderId, u.version, u.updatedAt));
    socket.on('connect_error', (error) => {
      fail(`connect_error: ${error.message}`);
      resolve();
    });
    socket.on('connect', () =>
      socket.emit('subscribe:order', { orderId: client.orderId }, (ack) => {
        if (!ack || ack.error || ack.code) fail(`subscribe: ${JSON.stringify(ack)}`);
        else lastVersion.set(client.orderId, (ack.order ?? ack).version);
        resolve();
      }),
    );
  });
}

function connectCentrifuge(client) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${plan.url.replace(/^http/, 'ws')}/connection/websocket`);
    closers.push(() => ws.close());
    ws.on('open', () =>
      ws.send(
        JSON.stringify({
          id: 1,
          connect: { data: { user_external_id: client.userExternalId, auth: client.token, project_id: plan.projectId }, name: 'bench' },
        }),
      ),
    );
    ws.on('message', (data) => {
      for (const line of data.toString().split('\n')) {
        if (!line.trim()) continue;
        const frame = JSON.parse(line);
        if (frame.id === 1) {
          if (frame.error) fail(`connect: ${JSON.stringify(frame.error)}`);
          resolve();
        } else if (frame.push?.pub) {
          const d = frame.push.pub.data;
          record(d.order_id, d.version, d.updated_at);
        } else if (!frame.id && !frame.push) {
          ws.send('{}'); // server ping: pong
        }
      }
    });
    ws.on('error', (error) => {
      fail(`error: ${error.message}`);
      resolve();
    });
  });
}

function connectBare(client) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${plan.url.replace(/^http/, 'ws')}/?order=${client.orderId}`);
    closers.push(() => ws.close());
    ws.on('open', () => resolve());
    ws.on('message', (data) => {
      const u = JSON.parse(data.toString());
      record(u.orderId, u.version, u.updatedAt);
    });
    ws.on('error', (error) => {
      fail(`error: ${error.message}`);
      resolve();
    });
  });
}

const connect = { socketio: connectSocketIo, centrifuge: connectCentrifuge, bare: connectBare, durable: connectBare }[plan.kind];
// Connect in waves, as a real population arrives, not all in one tick.
for (let i = 0; i < plan.clients.length; i += 200) await Promise.all(plan.clients.slice(i, i + 200).map(connect));
console.log(`ready ${plan.clients.length - failures}${firstFailure ? ` (first failure: ${firstFailure})` : ''}`);

process.stdin.on('data', (chunk) => {
  if (chunk.toString().includes('mark')) {
    latencies.length = 0;
    console.log('marked');
    return;
  }
  if (!chunk.toString().includes('stop')) return;
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null);
  console.log(
    JSON.stringify({
      received: sorted.length,
      p50: at(50),
      p99: at(99),
      max: sorted.at(-1) ?? null,
      gaps,
      duplicates,
      failures,
      latencies: sorted.map((v) => Math.round(v * 100) / 100),
    }),
  );
  for (const close of closers) close();
  setTimeout(() => process.exit(0), 200);
});
