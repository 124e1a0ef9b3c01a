// timing: what holding deadlines costs (issue #30). One Ordercast server on SQLite whose
// database holds many open orders with a deadline far ahead (1,000,000, against 10,000 in
// the same run), while a steady trickle of new orders comes due a second after creation:
// the server's CPU per second over the same window at both sizes (the sweeper reads the due
// index up to now, so the open orders should cost nothing), and how long after its
// deadline each new order got its `order.stuck` event (from its expectedBy to the event's
// commit time).
//
//   node bench/scenarios/timing.mjs --quick     # 2,000 vs 20,000 open orders: a smoke check
//   npm run bench -- timing
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cpuSeconds } from '../lib/cpu.mjs';
import { cliJson, startOrdercast, tempDir } from '../lib/processes.mjs';
import { runAloneIfMain } from '../lib/run-alone.mjs';
import { summarize } from '../lib/stats.mjs';

/** Orders should leave `waiting` within a second; the seeded ones were given a deadline 30 days out. */
const LIFECYCLE = {
  name: 'timing-bench',
  statuses: ['waiting', 'done'],
  initial: ['waiting'],
  final: ['done'],
  transitions: { waiting: ['done'] },
  expectedWithin: { waiting: '1s' },
};
const DAY = 86_400_000;

/**
 * `count` open orders of the project, written straight into the database (through the API a
 * million would take longer than the benchmark), each holding a deadline 30 days ahead.
 */
function seedOpenOrders(dbFile, projectId, count, log) {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const now = Date.now();
  const insert = db.prepare(
    `insert into orders (id, project_id, external_id, user_external_id, amount, currency, metadata, status, version, recent_history,
       created_at, updated_at, expected_by, eta, stuck, due_at)
     values (?, ?, null, null, null, null, '{}', 'waiting', 1, ?, ?, ?, ?, ?, 0, ?)`,
  );
  const chunk = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const at = new Date(now - (count - i)).toISOString();
      const due = new Date(now + 30 * DAY + i).toISOString();
      insert.run(
        `ord_seed${String(i).padStart(12, '0')}`,
        projectId,
        JSON.stringify([{ status: 'waiting', reason: null, at, version: 1 }]),
        at,
        at,
        due,
        due,
        due,
      );
    }
  });
  const started = Date.now();
  for (let from = 0; from < count; from += 20_000) chunk(from, Math.min(count, from + 20_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  log(`timing: seeded ${count.toLocaleString('en')} open orders in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function call(base, key, method, urlPath, body) {
  const response = await fetch(`${base}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** One size: the server's CPU per second while `rate` orders a second come due for `seconds`, and each one's flag latency. */
async function measure(open, { rate, seconds, log }) {
  const tmp = tempDir('timing');
  try {
    const lifecycleFile = path.join(tmp.dir, 'lifecycle.json');
    writeFileSync(lifecycleFile, JSON.stringify(LIFECYCLE));
    const created = await cliJson(['projects', 'create', '--name', 'timing bench', '--lifecycle', lifecycleFile, '--data-dir', tmp.dir, '--json']);
    seedOpenOrders(path.join(tmp.dir, 'ordercast.db'), created.id, open, log);
    const server = await startOrdercast({ dataDir: tmp.dir });
    try {
      const key = created.secretKey;
      // Warm-up: a few orders through every path (create, sweep, flag), unmeasured.
      for (let i = 0; i < 5; i++) await call(server.baseUrl, key, 'POST', '/api/v2/orders', {});
      await new Promise((resolve) => setTimeout(resolve, 2_000));

      const idleStart = cpuSeconds(server.pid);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const idleCpuPerSecond = (cpuSeconds(server.pid) - idleStart) / 3;

      const orders = [];
      const cpuStart = cpuSeconds(server.pid);
      const started = Date.now();
      for (let i = 0; i < rate * seconds; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        orders.push(await call(server.baseUrl, key, 'POST', '/api/v2/orders', {}));
      }
      // The last ones come due a second after their creation; the window covers their flagging.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const window = (Date.now() - started) / 1000;
      const cpuPerSecond = (cpuSeconds(server.pid) - cpuStart) / window;

      const latencies = [];
      for (const order of orders) {
        const events = (await call(server.baseUrl, key, 'GET', `/api/v2/orders/${order.id}/events`)).data;
        const stuck = events.find((e) => e.type === 'order.stuck');
        if (!stuck) throw new Error(`order ${order.id} was never flagged`);
        latencies.push(Date.parse(stuck.createdAt) - Date.parse(order.expectedBy));
      }
      latencies.sort((a, b) => a - b);
      return { cpuPerSecond, idleCpuPerSecond, p50: latencies[Math.floor(latencies.length / 2)], max: latencies.at(-1) };
    } finally {
      await server.stop();
    }
  } finally {
    tmp.remove();
  }
}

export async function timingScenario({ quick, runs, log }) {
  const [small, big] = quick ? [2_000, 20_000] : [10_000, 1_000_000];
  const load = { rate: 20, seconds: quick ? 3 : 10, log };
  const smallCpu = [];
  const bigCpu = [];
  const smallMax = [];
  const bigMax = [];
  const notes = [];
  for (let run = 1; run <= runs; run++) {
    const a = await measure(small, load);
    const b = await measure(big, load);
    smallCpu.push(a.cpuPerSecond);
    bigCpu.push(b.cpuPerSecond);
    smallMax.push(a.max);
    bigMax.push(b.max);
    notes.push(`run ${run}: idle CPU ${a.idleCpuPerSecond.toFixed(3)} vs ${b.idleCpuPerSecond.toFixed(3)} s/s; flag latency p50 ${a.p50} vs ${b.p50} ms`);
    log(
      `timing run ${run}/${runs}: CPU ${b.cpuPerSecond.toFixed(3)} s/s with ${big} open vs ${a.cpuPerSecond.toFixed(3)} with ${small}; latest flag ${b.max} vs ${a.max} ms`,
    );
  }
  const cpuRatio = summarize(bigCpu).median / summarize(smallCpu).median;
  const latest = Math.max(...smallMax, ...bigMax);
  const sizes = `${big.toLocaleString('en')} vs ${small.toLocaleString('en')} open orders`;
  return [
    {
      scenario: `timing: server CPU per second, ${sizes} holding deadlines`,
      ordercast: summarize(bigCpu),
      baseline: summarize(smallCpu),
      ratio: cpuRatio,
      target: '≤ 1.2×',
      meets: quick ? 'smoke' : cpuRatio <= 1.2,
      notes: `${load.rate} orders/s coming due for ${load.seconds} s on SQLite, ORDERCAST_TIMING_SWEEP_MS at its default; ${notes.join('; ')}`,
    },
    {
      scenario: `timing: latest order.stuck after its deadline (ms), ${sizes}`,
      ordercast: summarize(bigMax),
      baseline: summarize(smallMax),
      ratio: summarize(bigMax).median / Math.max(1, summarize(smallMax).median),
      target: '≤ 1,000 ms at both sizes',
      meets: quick ? 'smoke' : latest <= 1_000,
      notes: 'from the order’s expectedBy to the commit time of its order.stuck event, for every order of the load',
    },
  ];
}

await runAloneIfMain(import.meta.url, timingScenario);
