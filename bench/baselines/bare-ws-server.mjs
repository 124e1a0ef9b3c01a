// Baseline for the push scenario: a bare `ws` server holding the same clients (one
// order each) and sending order-update-shaped messages, stamped with the moment it
// decided to send them, at the given rate: POST /start?rate=R&seconds=S. GET /memory
// reports its heap, for the connections scenario.
//
// With BASELINE_DURABLE_DIR set it is the durable baseline: every update is first
// committed to SQLite (one insert each, WAL, synchronous=NORMAL, the updates decided in
// one tick committed together) and only then sent: the floor for any server that never
// pushes what it has not stored.
import Database from 'better-sqlite3';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer } from 'ws';

const commit = durableCommit(process.env.BASELINE_DURABLE_DIR);

function durableCommit(dir) {
  if (!dir) return () => {};
  const db = new Database(path.join(dir, 'durable-baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'create table if not exists baseline_events (id integer primary key autoincrement, order_id text not null, version integer not null, body text not null)',
  );
  const insert = db.prepare('insert into baseline_events (order_id, version, body) values (?, ?, ?)');
  return db.transaction((batch) => {
    for (const update of batch) insert.run(update.orderId, update.version, update.body);
  });
}

const clients = new Map();
const versions = new Map();
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/memory') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ heapUsed: process.memoryUsage().heapUsed, connections: clients.size }));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/start') {
    const rate = Number(url.searchParams.get('rate'));
    const seconds = Number(url.searchParams.get('seconds'));
    const ids = [...clients.keys()];
    const total = rate * seconds;
    const started = Date.now();
    let sent = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
      const batch = [];
      for (; sent < due; sent++) {
        const orderId = ids[sent % ids.length];
        const version = (versions.get(orderId) ?? 1) + 1;
        versions.set(orderId, version);
        const now = new Date().toISOString();
        const order = { id: orderId, object: 'order', status: version % 2 ? 'ping' : 'pong', version, updatedAt: now };
        batch.push({
          orderId,
          version,
          body: JSON.stringify({ orderId, status: order.status, previousStatus: null, version, updatedAt: now, eventName: 'order_pong', order }),
        });
      }
      if (batch.length > 0) commit(batch);
      for (const update of batch) clients.get(update.orderId)?.send(update.body);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
    res.end('started');
    return;
  }
  res.statusCode = 404;
  res.end();
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  const orderId = new URL(req.url, 'http://x').searchParams.get('order');
  clients.set(orderId, ws);
  ws.on('close', () => clients.delete(orderId));
});
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
