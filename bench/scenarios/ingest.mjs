// ingest: durable status transitions/s through POST /orders/{id}/status, each committed
// with its event row before the response, on SQLite and on PostgreSQL. Baseline: a
// bare Fastify route doing one single-row insert in a transaction on the same database.
// Also: the same with 10% refused, the cost of a change with the order's age, and bulk
// transitions through POST /orders/batch (100 per request).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { freshPgSchema } from '../lib/pg-schema.mjs';
import { startBaseline, startOrdercast, tempDir } from '../lib/processes.mjs';
import { runLoad } from '../lib/run-load.mjs';
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

async function ingestOn(dialect, pgBaseUrl, { quick, runs, log }) {
  const durationSec = quick ? 2 : 4;
  const connections = 50;
  const orderCount = quick ? 500 : 5000;
  const tmp = tempDir(`ingest-${dialect}`);
  // A database of its own: PostgreSQL keeps old row versions while any snapshot in the same
  // database may see them, so another session's open transaction in a shared database would
  // make every change of an old order slower (see snapshotProbe), and the age row would
  // measure that session instead of the order's age.
  const database = dialect === 'postgres' ? await freshPgDatabase(pgBaseUrl) : undefined;
  const schema = database ? await freshPgSchema(database.url) : undefined;
  const baselineSchema = database ? await freshPgSchema(database.url) : undefined;
  const dbArgs = schema ? ['--database-url', schema.url] : [];
  const project = await createPingPongProject(tmp.dir, dbArgs);
  const server = await startOrdercast({ dataDir: tmp.dir, databaseUrl: schema?.url });

  const baseline = await startBaseline('bare-insert-server.mjs', schema ? { BASELINE_DATABASE_URL: baselineSchema.url } : { BASELINE_DATA_DIR: tmp.dir });
  try {
    const headers = { authorization: `Bearer ${project.secretKey}` };
    const ours = [];
    const base = [];
    const oursP99 = [];
    const baseP99 = [];
    const withRefusals = [];
    const bulk = [];
    const two = [];
    const oneIdle = [];
    const twoIdle = [];
    const bulkP99 = [];
    // Orders already final: every 10th request of the mixed run asks one of them to move.
    const finals = await seedOrders(server.baseUrl, project.secretKey, 100);
    for (const id of finals) await postStatus(server.baseUrl, headers, id, 'end');
    for (let run = 1; run <= runs; run++) {
      // Fresh orders every run, so each gets a handful of transitions as real orders do
      // (reusing them would grow their histories run after run and slow every write).
      log(`ingest ${dialect} run ${run}/${runs}: seeding ${orderCount} orders`);
      const ids = await seedOrders(server.baseUrl, project.secretKey, orderCount, (i) => ({ userExternalId: `user-${run}-${i % 500}` }));
      const plan = { kind: 'toggle', connections, durationSec, headers, statuses: ['ping', 'pong'], orders: ids.map((id) => ({ id, status: 'ping' })) };
      const idleBefore = machineIdle();
      const o = await runLoad({ ...plan, url: server.baseUrl });
      oneIdle.push(idleSince(idleBefore));
      const b = await runLoad({ ...plan, url: baseline.baseUrl });
      for (const [name, r] of [
        ['ordercast', o],
        ['baseline', b],
      ]) {
        const wrong = Object.entries(r.statusCodes).filter(([code]) => Number(code) !== 200);
        if (wrong.length > 0 || r.errors > 0)
          throw new Error(`ingest ${dialect} ${name}: unexpected answers ${JSON.stringify(r.statusCodes)}, errors ${r.errors}; first: ${r.firstFailure}`);
      }
      const mixedIds = await seedOrders(server.baseUrl, project.secretKey, orderCount, (i) => ({ userExternalId: `user-m${run}-${i % 500}` }));
      const mixed = await runLoad({
        ...plan,
        orders: mixedIds.map((id) => ({ id, status: 'ping' })),
        url: server.baseUrl,
        refused: { every: 10, orderIds: finals },
      });
      const refusedCount = mixed.statusCodes['409']?.count ?? 0;
      const unexpected = Object.entries(mixed.statusCodes).filter(([code]) => code !== '200' && code !== '409');
      if (unexpected.length > 0 || mixed.errors > 0 || refusedCount < mixed.total / 20) {
        throw new Error(
          `ingest ${dialect} with refusals: unexpected answers ${JSON.stringify(mixed.statusCodes)}, errors ${mixed.errors}; first: ${mixed.firstFailure}`,
        );
      }
      withRefusals.push((mixed.statusCodes['200']?.count ?? 0) / durationSec);
      // Bulk: the same kind of transitions, 100 to a request of POST /orders/batch.
      const bulkIds = await seedOrders(server.baseUrl, project.secretKey, BULK_CONNECTIONS * BULK_ITEMS, (i) => ({
        userExternalId: `user-b${run}-${i % 500}`,
      }));
      const bulkRun = await bulkLoad(server.baseUrl, headers, bulkIds, durationSec);
      bulk.push(bulkRun.perSec);
      if (schema) {
        // The same load, half the connections and orders through each of two processes. The
        // second runs only for this part, so its log follower does not weigh on the other rows.
        const tmp2 = tempDir('ingest-postgres-second');
        const second = await startOrdercast({ dataDir: tmp2.dir, databaseUrl: schema.url });
        try {
          const twoIds = await seedOrders(server.baseUrl, project.secretKey, orderCount, (i) => ({ userExternalId: `user-t${run}-${i % 500}` }));
          const half = Math.floor(twoIds.length / 2);
          const idleAtStart = machineIdle();
          const parts = await Promise.all(
            [
              [server, twoIds.slice(0, half)],
              [second, twoIds.slice(half)],
            ].map(([node, part]) => runLoad({ ...plan, connections: connections / 2, orders: part.map((id) => ({ id, status: 'ping' })), url: node.baseUrl })),
          );
          twoIdle.push(idleSince(idleAtStart));
          for (const part of parts) {
            if (Object.keys(part.statusCodes).some((code) => code !== '200') || part.errors > 0) {
              throw new Error(`ingest postgres, two processes: unexpected answers ${JSON.stringify(part.statusCodes)}; first: ${part.firstFailure}`);
            }
          }
          two.push(parts.reduce((sum, part) => sum + part.requestsPerSec, 0));
        } finally {
          await second.stop();
          tmp2.remove();
        }
      }
      bulkP99.push(bulkRun.p99);
      ours.push(o.requestsPerSec);
      base.push(b.requestsPerSec);
      oursP99.push(o.latencyP99);
      baseP99.push(b.latencyP99);
      log(
        `ingest ${dialect} run ${run}/${runs}: ${Math.round(o.requestsPerSec)} vs ${Math.round(b.requestsPerSec)} transitions/s, p99 ${o.latencyP99} vs ${b.latencyP99} ms; with 10% refused: ${Math.round(withRefusals.at(-1))} valid/s; bulk ${Math.round(bulk.at(-1))} transitions/s (request p99 ${bulkP99.at(-1)} ms)`,
      );
    }
    const age = await costWithAge(server.baseUrl, headers, project.secretKey, quick, schema?.url);
    log(
      `ingest ${dialect}: a change at age ${age.oldAt} costs ${age.oldMs} ms (${age.oldBytes} bytes), at age ${age.youngAt} ${age.youngMs} ms (${age.youngBytes} bytes)${
        age.lookupBuffers
          ? `; lookup buffers ${age.lookupBuffers.young} → ${age.lookupBuffers.old}; oldest snapshot ${JSON.stringify(age.oldestSnapshot ?? null)}`
          : ''
      }`,
    );
    const oS = summarize(ours);
    const bS = summarize(base);
    const ratio = oS.median / bS.median;
    const absolute = dialect === 'sqlite' ? 6000 : 0;
    // PostgreSQL commits many appends per flush (group commit), so it can match a server that commits one row per request.
    const minRatio = dialect === 'sqlite' ? 0.5 : 1.0;
    const bulkS = summarize(bulk);
    const bulkTarget = dialect === 'sqlite' ? 20000 : 10000;
    const mixedS = summarize(withRefusals);
    const ageRatio = age.oldMs / age.youngMs;
    const rows = [];
    rows.push({
      scenario: `ingest ${dialect} with 10% refused (valid transitions/s)`,
      ordercast: mixedS,
      baseline: oS,
      ratio: mixedS.median / oS.median,
      target: '≥ 0.9× the clean ingest row',
      meets: mixedS.median / oS.median >= 0.9,
      notes: 'baseline column: the clean ingest row of the same run; every 10th request asks a final order to move (409)',
    });
    rows.push({
      scenario: `ingest ${dialect}: change #${age.oldAt} vs #${age.youngAt} of one order (ms)`,
      ordercast: summarize([age.oldMs]),
      baseline: summarize([age.youngMs]),
      ratio: ageRatio,
      target: '≤ 1.5×, and no bigger (but for digits)',
      meets: ageRatio <= 1.5 && age.oldBytes <= age.youngBytes * 1.05,
      notes: `median latency of ${AGE_WINDOW} sequential changes around each age; the order (= event snapshot = webhook data) is ${age.oldBytes} vs ${age.youngBytes} bytes${
        age.lookupBuffers ? `; the order's lookup read ${age.lookupBuffers.young} buffers at #${age.youngAt}, ${age.lookupBuffers.old} at #${age.oldAt}` : ''
      }${age.oldestSnapshot ? `; oldest snapshot in the database meanwhile: ${JSON.stringify(age.oldestSnapshot)}` : ''}`,
    });
    return [
      {
        scenario: `ingest ${dialect} (transitions/s)`,
        ordercast: oS,
        baseline: bS,
        ratio,
        target: `≥ ${minRatio}× baseline${absolute ? `; ≥ ${absolute}/s` : ''}`,
        meets: ratio >= minRatio && oS.median >= absolute,
        notes: `p99 ${summarize(oursP99).median} ms vs ${summarize(baseP99).median} ms; ${connections} connections, ${durationSec} s, every transition committed with its event row`,
      },
      ...rows,
      ...(two.length > 0
        ? [
            {
              scenario: `ingest ${dialect}, 2 processes on one database vs 1 (transitions/s)`,
              ordercast: summarize(two),
              baseline: oS,
              ratio: summarize(two).median / oS.median,
              target: '≥ 1.3×',
              meets: summarize(two).median / oS.median >= 1.3,
              notes: `baseline column: the clean ingest row (1 process, ${connections} connections); here ${connections / 2} connections to each process; machine CPU idle ${percent(summarize(twoIdle).median)} with 2 processes, ${percent(summarize(oneIdle).median)} with 1 (the load generators share the cores)`,
            },
          ]
        : []),
      {
        scenario: `ingest ${dialect} bulk, ${BULK_ITEMS} per request (transitions/s)`,
        ordercast: bulkS,
        baseline: oS,
        ratio: bulkS.median / oS.median,
        target: `≥ ${bulkTarget}/s`,
        meets: bulkS.median >= bulkTarget,
        notes: `baseline column: the single-transition ingest row of the same run; POST /api/v2/orders/batch, ${BULK_CONNECTIONS} connections, ${durationSec} s, request p99 ${summarize(bulkP99).median} ms`,
      },
    ];
  } finally {
    await server.stop();
    await baseline.stop();
    await schema?.drop();
    await baselineSchema?.drop();
    await database?.drop();
    tmp.remove();
  }
}

const AGE_WINDOW = 20;

const percent = (fraction) => `${Math.round(fraction * 100)}%`;

/** The machine's idle and total CPU ticks so far (/proc/stat): idle includes I/O wait. */
function machineIdle() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return { idle: ticks[3] + ticks[4], total: ticks.reduce((a, b) => a + b, 0) };
}

function idleSince(before) {
  const now = machineIdle();
  return (now.idle - before.idle) / Math.max(1, now.total - before.total);
}
const BULK_ITEMS = 100;
const BULK_CONNECTIONS = 8;

/** Each connection moves its own 100 orders to the other status, all in one batch request, again and again. */
async function bulkLoad(baseUrl, headers, orderIds, durationSec) {
  const deadline = performance.now() + durationSec * 1000;
  const latencies = [];
  let applied = 0;
  const connection = async (ids) => {
    let status = 'pong';
    while (performance.now() < deadline) {
      const started = performance.now();
      const response = await fetch(`${baseUrl}/api/v2/orders/batch`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ items: ids.map((orderId) => ({ kind: 'transition', orderId, body: { status } })) }),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`ingest bulk: ${response.status} ${text.slice(0, 300)}`);
      const results = JSON.parse(text).data;
      const wrong = results.find((r) => r.status !== 200);
      if (wrong) throw new Error(`ingest bulk: an item answered ${JSON.stringify(wrong).slice(0, 300)}`);
      applied += results.length;
      latencies.push(performance.now() - started);
      status = status === 'pong' ? 'ping' : 'pong';
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: BULK_CONNECTIONS }, (_, c) => connection(orderIds.slice(c * BULK_ITEMS, (c + 1) * BULK_ITEMS))));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSec: applied / seconds, p99: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0) };
}

async function freshPgDatabase(baseUrl) {
  const name = `ordercast_bench_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database ${name} with (force)`) };
}

async function postStatus(baseUrl, headers, id, status) {
  const response = await fetch(`${baseUrl}/api/v2/orders/${id}/status`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`ingest: moving ${id} to ${status} answered ${response.status} ${text}`);
  return text;
}

/** One order changed 2,000 times (200 in --quick): how long a change takes, and how big the order is, young and old. */
async function costWithAge(baseUrl, headers, secretKey, quick, pgUrl) {
  const [id] = await seedOrders(baseUrl, secretKey, 1);
  const oldAt = quick ? 200 : 2000;
  const youngAt = 20;
  const timings = new Map();
  const bytes = new Map();
  const probe = pgUrl ? await snapshotProbe(pgUrl, id) : undefined;
  const lookups = {};
  for (let change = 1; change <= oldAt + AGE_WINDOW / 2; change++) {
    const started = performance.now();
    const body = await postStatus(baseUrl, headers, id, change % 2 ? 'pong' : 'ping');
    timings.set(change, performance.now() - started);
    bytes.set(change, body.length);
    if (probe && change % 100 === 0) await probe.sample();
    if (probe && (change === youngAt || change === oldAt)) lookups[change] = await probe.lookupBuffers();
  }
  await probe?.close();
  const around = (at) => summarize(Array.from({ length: AGE_WINDOW }, (_, i) => timings.get(at - AGE_WINDOW / 2 + i))).median;
  return {
    oldAt,
    youngAt,
    oldMs: Number(around(oldAt).toFixed(3)),
    youngMs: Number(around(youngAt).toFixed(3)),
    oldBytes: bytes.get(oldAt),
    youngBytes: bytes.get(youngAt),
    lookupBuffers: probe ? { young: lookups[youngAt], old: lookups[oldAt] } : undefined,
    oldestSnapshot: probe?.oldest(),
  };
}

/**
 * What makes a change of an old order slow on PostgreSQL: each change leaves the row's
 * previous version behind, and reading the order walks every version that a snapshot
 * still open somewhere in the database might see. So the age row reports how many
 * buffers the order's lookup touched, young and old (EXPLAIN (ANALYZE, BUFFERS)), and
 * the oldest snapshot held in the database while the changes ran (pg_stat_activity).
 */
async function snapshotProbe(pgUrl, orderId) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  let worst;
  return {
    async sample() {
      const { rows } = await client.query(
        `select application_name, state, age(backend_xmin)::int as xmin_age, extract(epoch from now() - xact_start)::float as xact_seconds, left(query, 60) as query
         from pg_stat_activity where backend_xmin is not null and pid <> pg_backend_pid() and datname = current_database()
         order by age(backend_xmin) desc limit 1`,
      );
      if (rows[0] && (!worst || rows[0].xmin_age > worst.xmin_age)) worst = rows[0];
    },
    async lookupBuffers() {
      const { rows } = await client.query(`explain (analyze, buffers, format json) select * from orders where id = $1`, [orderId]);
      const plan = rows[0]['QUERY PLAN'][0].Plan;
      return plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
    },
    oldest: () => worst,
    close: () => client.end(),
  };
}

export async function ingestScenario(options) {
  const rows = [...(await ingestOn('sqlite', undefined, options))];
  const pgUrl = process.env.ORDERCAST_BENCH_DATABASE_URL ?? process.env.ORDERCAST_TEST_DATABASE_URL;
  if (pgUrl) rows.push(...(await ingestOn('postgres', pgUrl, options)));
  else options.log('ingest postgres: SKIPPED (set ORDERCAST_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
  return rows;
}
