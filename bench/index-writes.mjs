// index-writes: what the indexes of `orders` cost each transition, before and after migration
// 0015_lean_writes, at the store (no HTTP). The same code writes to two databases: one as the
// migrations leave it, one with 0014's indexes and (PostgreSQL) primary key put back. Rounds of
// group commits of 100 transitions (ping-pong orders, 500 users) alternate between them.
// PostgreSQL: WAL records and bytes and buffers of one batch per round (run first under
// EXPLAIN (ANALYZE, BUFFERS, WAL) and rolled back), CPU per transition of this process and of
// the pool's backends (found by application_name). SQLite: CPU per transition (SQLite runs in
// this process) and WAL pages written per transition (auto-checkpoint off during a round).
// Then the age row of the ingest bench, interleaved: one order per database changed --age times.
// Not part of `npm run bench`: its baseline is the other index set. See bench/README.md,
// "ingest on PostgreSQL", lean writes round.
//
//   node bench/index-writes.mjs                                   # SQLite only
//   ORDERCAST_BENCH_DATABASE_URL=postgres://… node bench/index-writes.mjs --orders 10000 --batches 40 --rounds 4 --age 2000
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { parseLifecycle } from '../packages/server/dist/domain/lifecycle.js';
import { openStore } from '../packages/server/dist/store/database.js';
import { migrateToLatest } from '../packages/server/dist/store/migrations.js';
import { freshPgSchema } from './lib/pg-schema.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ORDERS = arg('orders', 10000);
const BATCHES = arg('batches', 40);
const ROUNDS = arg('rounds', 4);
// Then one order per database changed this many times, change i of each in turn (0: skip).
const AGE = arg('age', 2000);
const pgUrl = process.env.ORDERCAST_BENCH_DATABASE_URL;
const lifecycle = parseLifecycle({
  name: 'ping-pong',
  statuses: ['ping', 'pong', 'end'],
  initial: ['ping'],
  final: ['end'],
  transitions: { ping: ['pong', 'end'], pong: ['ping', 'end'] },
});
// The index set of 0014: the timing indexes over every order, and (PostgreSQL) the key on seq.
const BEFORE_INDEXES = [
  'drop index orders_due',
  'create index orders_due on orders (due_at)',
  'drop index orders_stuck',
  'create index orders_stuck on orders (stuck, project_id, status, seq)',
];
const BEFORE_KEY = 'alter table orders drop constraint orders_pkey, add constraint orders_pkey primary key (seq), add constraint orders_id_key unique (id)';

// When armed, the next batch statement is first run under EXPLAIN in a transaction rolled back.
let explainNext = null;
const poolQuery = pg.Pool.prototype.query;
pg.Pool.prototype.query = async function (config, values) {
  if (explainNext && typeof config === 'object' && config.name === 'ordercast_batch_append') {
    const done = explainNext;
    explainNext = null;
    const client = await this.connect();
    try {
      await client.query('begin');
      const result = await client.query({ text: `explain (analyze, buffers, wal, format json) ${config.text}`, values: config.values });
      await client.query('rollback');
      done(result.rows[0]['QUERY PLAN'][0]);
    } finally {
      client.release();
    }
  }
  return poolQuery.call(this, config, values);
};

async function openVariant(dialect, name) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `index-writes-${name}-`));
  const schema = dialect === 'postgres' ? await freshPgSchema(pgUrl) : undefined;
  const url = schema ? new URL(schema.url) : undefined;
  url?.searchParams.set('application_name', `index_writes_${name}`);
  const store = openStore({ dataDir: dir, databaseUrl: url?.toString() });
  await migrateToLatest(store.db, dialect);
  if (name === 'before') {
    for (const statement of [...BEFORE_INDEXES, ...(dialect === 'postgres' ? [BEFORE_KEY] : [])]) await sql.raw(statement).execute(store.db);
  }
  if (dialect === 'sqlite') await sql`pragma wal_autocheckpoint = 0`.execute(store.db);
  await store.db
    .insertInto('projects')
    .values({ id: 'prj_iw', name: 'iw', lifecycle: '{}', token_secret: 's', created_at: new Date().toISOString() })
    .execute();
  const ids = Array.from({ length: ORDERS }, (_, i) => `ord_${i}`);
  for (let i = 0; i < ORDERS; i += 100) {
    const unit = ids.slice(i, i + 100).map((id, j) => ({
      command: {
        kind: 'create',
        projectId: 'prj_iw',
        lifecycle,
        order: { externalId: null, userExternalId: `user-${(i + j) % 500}`, amount: null, currency: null, metadata: {}, status: undefined },
      },
      ids: { orderId: id, eventId: `evt_c_${id}` },
    }));
    await store.orderLog.appendMany(unit);
  }
  if (dialect === 'postgres') for (const table of ['orders', 'order_events']) await sql`analyze ${sql.table(table)}`.execute(store.db);
  return { name, dialect, dir, schema, store, ids, status: new Map(ids.map((id) => [id, 'ping'])), next: 0, n: 0, samples: [] };
}

async function batch(v) {
  const unit = [];
  for (let k = 0; k < 100; k++) {
    const id = v.ids[v.next++ % v.ids.length];
    const to = v.status.get(id) === 'ping' ? 'pong' : 'ping';
    v.status.set(id, to);
    unit.push({
      command: { kind: 'transition', projectId: 'prj_iw', lifecycle, orderId: id, change: { status: to, reason: null } },
      ids: { orderId: id, eventId: `evt_t${v.n++}` },
    });
  }
  const results = await v.store.orderLog.appendMany(unit);
  if (!results.every((r) => r.ok && r.outcome.kind === 'appended')) throw new Error(`${v.name}: a transition was not appended`);
}

const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
async function backendMicros(v) {
  if (v.dialect !== 'postgres') return 0;
  const { rows } = await sql`select pid from pg_stat_activity where application_name = ${`index_writes_${v.name}`}`.execute(v.store.db);
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      ticks += cpuTicks(pid);
    } catch {
      // the backend ended meanwhile
    }
  }
  return ticks * 10_000;
}
const walBytes = (v) => {
  try {
    return statSync(path.join(v.dir, 'ordercast.db-wal')).size;
  } catch {
    return 0;
  }
};

async function round(v) {
  for (let i = 0; i < 3; i++) await batch(v);
  if (v.dialect === 'sqlite') await sql`pragma wal_checkpoint(TRUNCATE)`.execute(v.store.db);
  const wal0 = walBytes(v);
  const backends0 = await backendMicros(v);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < BATCHES; i++) await batch(v);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const n = BATCHES * 100;
  const sample = { perSec: n / seconds, cpu: (cpu.user + cpu.system) / n, backends: ((await backendMicros(v)) - backends0) / n };
  if (v.dialect === 'sqlite') {
    sample.walPages = (walBytes(v) - wal0) / (4096 + 24) / n;
  } else {
    const explained = new Promise((resolve) => {
      explainNext = resolve;
    });
    await batch(v);
    const plan = await explained;
    const top = plan.Plan;
    sample.walRecords = top['WAL Records'];
    sample.walBytes = top['WAL Bytes'];
    sample.bufferHits = top['Shared Hit Blocks'];
    sample.batchMs = plan['Execution Time'];
    const update = [];
    const walk = (node) => {
      if (node['Node Type'] === 'ModifyTable' && node.Operation === 'Update' && node['Relation Name'] === 'orders') update.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(top);
    sample.updateWalRecords = update[0]?.['WAL Records'];
  }
  v.samples.push(sample);
  return sample;
}

/** The age row at the store: median latency of the 20 changes around #20 and around #AGE of one order. */
async function costWithAge(variants) {
  for (const v of variants) {
    const created = await v.store.orderLog.append(
      {
        kind: 'create',
        projectId: 'prj_iw',
        lifecycle,
        order: { externalId: null, userExternalId: 'aged', amount: null, currency: null, metadata: {}, status: undefined },
      },
      { orderId: 'ord_aged', eventId: 'evt_aged_0' },
    );
    if (created.kind !== 'appended') throw new Error(`${v.name}: the aged order was not created`);
    v.aged = { status: 'ping', ms: [] };
  }
  for (let i = 1; i <= AGE; i++) {
    for (const v of i % 2 ? variants : [...variants].reverse()) {
      const to = v.aged.status === 'ping' ? 'pong' : 'ping';
      const t0 = performance.now();
      const r = await v.store.orderLog.append(
        { kind: 'transition', projectId: 'prj_iw', lifecycle, orderId: 'ord_aged', change: { status: to, reason: null } },
        { orderId: 'ord_aged', eventId: `evt_aged_${i}` },
      );
      v.aged.ms.push(performance.now() - t0);
      if (r.kind !== 'appended') throw new Error(`${v.name}: change ${i} of the aged order was not appended`);
      v.aged.status = to;
    }
  }
  for (const v of variants) {
    const young = median(v.aged.ms.slice(10, 30));
    const old = median(v.aged.ms.slice(-20));
    console.log(`${v.dialect} ${v.name}: change #${AGE} vs #20 of one order ${old.toFixed(2)} vs ${young.toFixed(2)} ms, ${(old / young).toFixed(2)}×`);
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values, digits = 0) => `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;

for (const dialect of pgUrl ? ['postgres', 'sqlite'] : ['sqlite']) {
  const variants = [await openVariant(dialect, 'before'), await openVariant(dialect, 'after')];
  for (let r = 1; r <= ROUNDS; r++) {
    for (const v of r % 2 ? variants : [...variants].reverse()) {
      const s = await round(v);
      console.log(`${dialect} round ${r} ${v.name}: ${JSON.stringify(s, (_, x) => (typeof x === 'number' ? Number(x.toFixed(2)) : x))}`);
    }
  }
  if (AGE > 0) await costWithAge(variants);
  for (const v of variants) {
    const of = (key) => v.samples.map((s) => s[key]);
    const common = `${spread(of('perSec'))} transitions/s; CPU ${spread(of('cpu'))} µs per transition`;
    console.log(
      dialect === 'postgres'
        ? `${dialect} ${v.name}: ${common}, backends ${spread(of('backends'))} µs; per batch of 100: WAL ${spread(of('walRecords'))} records, ${spread(of('walBytes'))} bytes (the orders update ${spread(of('updateWalRecords'))} records), ${spread(of('bufferHits'))} buffer hits, ${spread(of('batchMs'), 1)} ms`
        : `${dialect} ${v.name}: ${common}; ${spread(of('walPages'), 2)} WAL pages per transition`,
    );
    await v.store.close();
    await v.schema?.drop();
    rmSync(v.dir, { recursive: true, force: true });
  }
}
