#!/usr/bin/env node
// What one idle connection holds, by kind of object (not part of `npm run bench`):
// `node bench/connection-heap.mjs socketio|centrifuge|library [--clients N] [--save file]`.
// Starts a server with its inspector, connects N clients (default 2,000) as the connections
// scenario does (Socket.IO: following one order; Centrifuge: a user with its channel;
// library: socket.io alone, bench/baselines/bare-socketio-server.mjs), and prints the
// difference between heap snapshots taken before and after they connect, each after a
// full collection: bytes and objects per connection by node type and constructor, largest
// first. `--save` writes the second snapshot (open it in Chrome DevTools to follow retainers).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { userClients } from './lib/user-clients.mjs';
import { ROOT, cliJson, startOrdercast, startProcess, tempDir } from './lib/processes.mjs';
import { seedOrders } from './lib/seed.mjs';

const kind = process.argv[2];
if (!['socketio', 'centrifuge', 'library'].includes(kind)) {
  console.error('usage: node bench/connection-heap.mjs socketio|centrifuge|library [--clients N] [--save file]');
  process.exit(2);
}
const option = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const count = Number(option('clients') ?? 2000);
const saveTo = option('save');

/** HeapProfiler over the inspector's WebSocket: a full collection, then a snapshot, as one string. */
function inspector(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 2 ** 31 });
    let id = 0;
    const pending = new Map();
    let chunks = [];
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(message.params.chunk);
      else if (pending.has(message.id)) pending.get(message.id)(message);
    });
    ws.once('error', reject);
    const call = (method) =>
      new Promise((done) => {
        pending.set(++id, done);
        ws.send(JSON.stringify({ id, method, params: {} }));
      });
    ws.once('open', () =>
      resolve({
        async snapshot() {
          chunks = [];
          await call('HeapProfiler.collectGarbage');
          await call('HeapProfiler.takeHeapSnapshot');
          return chunks.join('');
        },
        close: () => ws.close(),
      }),
    );
  });
}

/** Self size and count by node type and name (strings, numbers and code each as one group). */
function byConstructor(text) {
  const { snapshot, nodes, strings } = JSON.parse(text);
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]];
    const name = /string/.test(type) || type === 'number' || type === 'code' ? `(${type})` : strings[nodes[i + nameAt]].slice(0, 60);
    const key = `${type}\t${name}`;
    const group = groups.get(key) ?? { count: 0, size: 0 };
    group.count++;
    group.size += nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

async function openClients(server, project, dir, clients) {
  const file = path.join(dir, `clients-${Math.random().toString(36).slice(2)}.json`);
  const plan = { url: server.baseUrl, secretKey: project.secretKey, projectId: project.id, kind: kind === 'library' ? 'socketio' : kind, clients };
  writeFileSync(file, JSON.stringify(plan));
  const proc = startProcess([path.join(ROOT, 'bench/lib/push-clients.mjs'), file], { ready: /ready (\d+)(.*)/, timeoutMs: 600_000, stdin: 'pipe' });
  const ready = await proc.started;
  if (Number(ready[1]) !== clients.length) throw new Error(`only ${ready[1]} of ${clients.length} connected${ready[2]}`);
  return proc;
}

const tmp = tempDir('connection-heap');
const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', 'store', '--json', '--data-dir', tmp.dir]);
const seeder = await startOrdercast({ dataDir: tmp.dir });
const orderIds = await seedOrders(seeder.baseUrl, project.secretKey, count, (i) => ({ userExternalId: `user-${i}` }));
await seeder.stop();
const clients = await userClients(project, orderIds);
let server;
if (kind === 'library') {
  const proc = startProcess(['--inspect=127.0.0.1:0', path.join(ROOT, 'bench/baselines/bare-socketio-server.mjs')], { ready: /listening (http:\/\/\S+)/ });
  const ready = await proc.started;
  server = { baseUrl: ready[1], inspectorUrl: /Debugger listening on (ws:\/\/\S+)/.exec(proc.output())[1], kill: proc.kill };
} else {
  server = await startOrdercast({ dataDir: tmp.dir, inspect: true, env: { ORDERCAST_WS_HANDSHAKE_RATE: '0' } });
}
const heap = await inspector(server.inspectorUrl);
try {
  // A first wave, gone before the first snapshot: code compiled and lazily made shared state then weigh on both.
  const warmUp = await openClients(server, project, tmp.dir, clients.slice(0, 200));
  await warmUp.stop();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const before = byConstructor(await heap.snapshot());
  const connected = await openClients(server, project, tmp.dir, clients);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const text = await heap.snapshot();
  if (saveTo) writeFileSync(saveTo, text);
  const after = byConstructor(text);
  await connected.stop();
  const rows = [];
  let total = 0;
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key) ?? { count: 0, size: 0 };
    const b = after.get(key) ?? { count: 0, size: 0 };
    total += b.size - a.size;
    rows.push({ key, bytes: (b.size - a.size) / count, objects: (b.count - a.count) / count });
  }
  console.log(`${kind}: ${(total / count).toFixed(0)} B of heap per connection (${count} connections)`);
  console.log('bytes\tobjects\ttype\tname');
  for (const row of rows.sort((x, y) => y.bytes - x.bytes))
    if (Math.abs(row.bytes) >= 8) console.log(`${row.bytes.toFixed(0)}\t${row.objects.toFixed(2)}\t${row.key}`);
} finally {
  heap.close();
  await server.kill();
  tmp.remove();
}
