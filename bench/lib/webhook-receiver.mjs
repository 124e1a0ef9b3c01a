// A loopback webhook receiver for the benchmarks, in its own process: answers 200 at
// once and records, per delivery, the receipt time, the webhook-id, and the delay
// from the event's createdAt (its commit) to receipt. GET /stats, POST /reset.
import http from 'node:http';

let latencies = [];
let ids = new Set();
let count = 0;
let firstAt = 0;
let lastAt = 0;

function percentile(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    const sorted = [...latencies].sort((a, b) => a - b);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count, unique: ids.size, firstAt, lastAt, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null }));
    return;
  }
  if (req.method === 'POST' && req.url === '/reset') {
    latencies = [];
    ids = new Set();
    count = 0;
    firstAt = 0;
    lastAt = 0;
    res.end('reset');
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = performance.timeOrigin + performance.now();
    count++;
    firstAt ||= now;
    lastAt = now;
    const id = req.headers['webhook-id'];
    if (id) ids.add(id);
    try {
      const createdAt = Date.parse(JSON.parse(Buffer.concat(chunks).toString()).createdAt);
      if (Number.isFinite(createdAt)) latencies.push(now - createdAt);
    } catch {
      // not JSON: counted, no latency
    }
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
