// Baseline for the push scenario: a bare `ws` server holding the same clients (one
// order each) and sending order-update-shaped messages, stamped with the moment it
// decided to send them, at the given rate: POST /start?rate=R&seconds=S. GET /memory
// reports its heap, for the connections scenario.
import http from 'node:http';
import { WebSocketServer } from 'ws';

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
      for (; sent < due; sent++) {
        const orderId = ids[sent % ids.length];
        const version = (versions.get(orderId) ?? 1) + 1;
        versions.set(orderId, version);
        const now = new Date().toISOString();
        const order = { id: orderId, object: 'order', status: version % 2 ? 'ping' : 'pong', version, updatedAt: now };
        clients.get(orderId)?.send(JSON.stringify({ orderId, status: order.status, previousStatus: null, version, updatedAt: now, eventName: 'order_pong', order }));
      }
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
