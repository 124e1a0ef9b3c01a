// retention-batches: how long the background retention job makes writes wait.
// Fills a database with old webhook deliveries, attempts and events, then writes order
// transitions one after another, first with the job idle, then while it prunes all of it,
// and compares the write latencies. Not part of `npm run bench` (it has no baseline of
// its own: the idle phase is its baseline).
//
//   node bench/retention-batches.mjs                 # SQLite
//   ORDERCAST_BENCH_DATABASE_URL=postgres://… node bench/retention-batches.mjs
//   node bench/retention-batches.mjs --orders 3000 --batch 50
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshPgSchema } from './lib/pg-schema.mjs';
import pino from 'pino';
import { createApp } from '../packages/server/dist/app.js';
import { loadConfig } from '../packages/server/dist/config.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ORDERS = arg('orders', 3000);
const BATCH = arg('batch', 100);
const HOUR = 3_600_000;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
const fmt = (ms) => `${ms.toFixed(2)} ms`;

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-retention-'));
  const base = process.env.ORDERCAST_BENCH_DATABASE_URL;
  const schema = base ? await freshPgSchema(base, 'bench_retention') : undefined;
  const databaseUrl = schema?.url;
  const receiver = http.createServer((req, res) => req.resume().on('end', () => res.end('{"received":true,"note":"a body to keep"}')));
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const app = await createApp(
    loadConfig(
      { port: 0, host: '127.0.0.1', dataDir, databaseUrl, demo: false },
      {
        ORDERCAST_RATE_LIMIT: '0',
        ORDERCAST_QUOTA_WRITES_PER_SECOND: '1000000',
        ORDERCAST_METRICS_PORT: 'off',
        ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
        ORDERCAST_WEBHOOK_CONCURRENCY: '32',
        ORDERCAST_RETENTION_ATTEMPT_BODIES: '1h',
        ORDERCAST_RETENTION_DELIVERIES: '1h',
        ORDERCAST_RETENTION_EVENTS: '1h',
        ORDERCAST_RETENTION_INTERVAL: '24h',
        ORDERCAST_RETENTION_BATCH: String(BATCH),
      },
    ),
    { logger: pino({ level: 'silent' }) },
  );
  await app.listen();
  try {
    const { project } = await app.projects.create({ name: 'retention bench', lifecycle: 'onramp' });
    await app.webhookEndpoints.create(project.id, { url: `http://127.0.0.1:${receiver.address().port}/hook` });
    // The old data: orders walked to COMPLETED, each event delivered (delivery + attempt with a body).
    console.log(`filling: ${ORDERS} orders x 3 events, each delivered once…`);
    for (let i = 0; i < ORDERS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, ORDERS - i) }, async () => {
          const { body } = await app.orders.create(project.id, { status: 'PROCESSING' });
          await app.orders.transition(project.id, body.id, { status: 'PENDING_DELIVERY' });
          await app.orders.transition(project.id, body.id, { status: 'COMPLETED' });
        }),
      );
    }
    for (;;) {
      const { pending } = await app.deliveryQueue.queueStats();
      if (pending === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const filledAt = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    // Fresh orders for the write load, created after the cutoff so they are never pruned.
    const targets = [];
    for (let i = 0; i < 4000; i++) targets.push((await app.orders.create(project.id, { status: 'AWAITING_PAYMENT_FROM_USER' })).body.id);
    for (;;) {
      const { pending } = await app.deliveryQueue.queueStats();
      if (pending === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    let next = 0;
    const statuses = ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING'];

    async function writeFor(ms, until) {
      const latencies = [];
      const end = Date.now() + ms;
      while (until ? !until() : Date.now() < end) {
        const id = targets[next % targets.length];
        const status = statuses[Math.floor(next / targets.length)];
        next++;
        const started = performance.now();
        await app.orders.transition(project.id, id, { status });
        latencies.push(performance.now() - started);
      }
      return latencies.sort((a, b) => a - b);
    }

    const idle = await writeFor(3000);
    let done = false;
    // The clock an hour on from the end of the fill: everything of the fill is old enough, nothing after it.
    const cutoffClock = filledAt + HOUR;
    const started = performance.now();
    const pass = app.retention.runOnce(cutoffClock).finally(() => {
      done = true;
    });
    const busy = await writeFor(0, () => done);
    const result = await pass;
    const passMs = performance.now() - started;
    const report = (name, l) => `${name}: ${l.length} writes, p50 ${fmt(percentile(l, 0.5))}, p99 ${fmt(percentile(l, 0.99))}, max ${fmt(l[l.length - 1])}`;
    console.log(`database: ${databaseUrl ? 'PostgreSQL' : 'SQLite'}; batch ${BATCH}`);
    console.log(report('writes, retention idle   ', idle));
    console.log(report('writes, retention pruning', busy));
    console.log(
      `pruned: ${result.attemptBodies} attempt bodies, ${result.deliveries} deliveries (with their attempts), ${result.events} events in ${result.batches} batches over ${(passMs / 1000).toFixed(1)} s; longest batch ${fmt(result.longestBatchMs)} (${Object.entries(
        result.longestBatchMsByKind,
      )
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')})`,
    );
  } finally {
    await app.close();
    receiver.close();
    await schema?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
