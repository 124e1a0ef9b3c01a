// ingest: durable status transitions/s through POST /orders/{id}/status, each committed
// with its event row before the response, on SQLite and on PostgreSQL. Baseline: a
// bare Fastify route doing one single-row insert in a transaction on the same database.
import pg from 'pg';
import { startBaseline, startOrdercast, tempDir } from '../lib/processes.mjs';
import { runLoad } from '../lib/run-load.mjs';
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

async function freshSchema(baseUrl) {
  const schema = `bench_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

async function ingestOn(dialect, pgBaseUrl, { quick, runs, log }) {
  const durationSec = quick ? 2 : 4;
  const connections = 50;
  const orderCount = quick ? 500 : 5000;
  const tmp = tempDir(`ingest-${dialect}`);
  const schema = dialect === 'postgres' ? await freshSchema(pgBaseUrl) : undefined;
  const baselineSchema = dialect === 'postgres' ? await freshSchema(pgBaseUrl) : undefined;
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
    for (let run = 1; run <= runs; run++) {
      // Fresh orders every run, so each gets a handful of transitions as real orders do
      // (reusing them would grow their histories run after run and slow every write).
      log(`ingest ${dialect} run ${run}/${runs}: seeding ${orderCount} orders`);
      const ids = await seedOrders(server.baseUrl, project.secretKey, orderCount, (i) => ({ userExternalId: `user-${run}-${i % 500}` }));
      const plan = { kind: 'toggle', connections, durationSec, headers, statuses: ['ping', 'pong'], orders: ids.map((id) => ({ id, status: 'ping' })) };
      const o = await runLoad({ ...plan, url: server.baseUrl });
      const b = await runLoad({ ...plan, url: baseline.baseUrl });
      for (const [name, r] of [['ordercast', o], ['baseline', b]]) {
        const wrong = Object.entries(r.statusCodes).filter(([code]) => Number(code) !== 200);
        if (wrong.length > 0 || r.errors > 0) throw new Error(`ingest ${dialect} ${name}: unexpected answers ${JSON.stringify(r.statusCodes)}, errors ${r.errors}; first: ${r.firstFailure}`);
      }
      ours.push(o.requestsPerSec);
      base.push(b.requestsPerSec);
      oursP99.push(o.latencyP99);
      baseP99.push(b.latencyP99);
      log(`ingest ${dialect} run ${run}/${runs}: ${Math.round(o.requestsPerSec)} vs ${Math.round(b.requestsPerSec)} transitions/s, p99 ${o.latencyP99} vs ${b.latencyP99} ms`);
    }
    const oS = summarize(ours);
    const bS = summarize(base);
    const ratio = oS.median / bS.median;
    const absolute = dialect === 'sqlite' ? 5000 : 0;
    return {
      scenario: `ingest ${dialect} (transitions/s)`,
      ordercast: oS,
      baseline: bS,
      ratio,
      target: `≥ 0.5× baseline${absolute ? `; ≥ ${absolute}/s` : ''}`,
      meets: ratio >= 0.5 && oS.median >= absolute,
      notes: `p99 ${summarize(oursP99).median} ms vs ${summarize(baseP99).median} ms; ${connections} connections, ${durationSec} s, every transition committed with its event row`,
    };
  } finally {
    await server.stop();
    await baseline.stop();
    await schema?.drop();
    await baselineSchema?.drop();
    tmp.remove();
  }
}

export async function ingestScenario(options) {
  const rows = [await ingestOn('sqlite', undefined, options)];
  const pgUrl = process.env.ORDERCAST_BENCH_DATABASE_URL ?? process.env.ORDERCAST_TEST_DATABASE_URL;
  if (pgUrl) rows.push(await ingestOn('postgres', pgUrl, options));
  else options.log('ingest postgres: SKIPPED (set ORDERCAST_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
  return rows;
}
