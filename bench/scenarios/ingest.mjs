// ingest: durable status transitions/s through POST /orders/{id}/status, each committed
// with its event row before the response, on SQLite and on PostgreSQL. Baseline: a
// bare Fastify route doing one single-row insert in a transaction on the same database.
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
  const schema = dialect === 'postgres' ? await freshPgSchema(pgBaseUrl) : undefined;
  const baselineSchema = dialect === 'postgres' ? await freshPgSchema(pgBaseUrl) : undefined;
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
    // Orders already final: every 10th request of the mixed run asks one of them to move.
    const finals = await seedOrders(server.baseUrl, project.secretKey, 100);
    for (const id of finals) await postStatus(server.baseUrl, headers, id, 'end');
    for (let run = 1; run <= runs; run++) {
      // Fresh orders every run, so each gets a handful of transitions as real orders do
      // (reusing them would grow their histories run after run and slow every write).
      log(`ingest ${dialect} run ${run}/${runs}: seeding ${orderCount} orders`);
      const ids = await seedOrders(server.baseUrl, project.secretKey, orderCount, (i) => ({ userExternalId: `user-${run}-${i % 500}` }));
      const plan = { kind: 'toggle', connections, durationSec, headers, statuses: ['ping', 'pong'], orders: ids.map((id) => ({ id, status: 'ping' })) };
      const o = await runLoad({ ...plan, url: server.baseUrl });
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
      ours.push(o.requestsPerSec);
      base.push(b.requestsPerSec);
      oursP99.push(o.latencyP99);
      baseP99.push(b.latencyP99);
      log(
        `ingest ${dialect} run ${run}/${runs}: ${Math.round(o.requestsPerSec)} vs ${Math.round(b.requestsPerSec)} transitions/s, p99 ${o.latencyP99} vs ${b.latencyP99} ms; with 10% refused: ${Math.round(withRefusals.at(-1))} valid/s`,
      );
    }
    const age = await costWithAge(server.baseUrl, headers, project.secretKey, quick);
    log(
      `ingest ${dialect}: a change at age ${age.oldAt} costs ${age.oldMs} ms (${age.oldBytes} bytes), at age ${age.youngAt} ${age.youngMs} ms (${age.youngBytes} bytes)`,
    );
    const oS = summarize(ours);
    const bS = summarize(base);
    const ratio = oS.median / bS.median;
    const absolute = dialect === 'sqlite' ? 6000 : 0;
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
      notes: `median latency of ${AGE_WINDOW} sequential changes around each age; the order (= event snapshot = webhook data) is ${age.oldBytes} vs ${age.youngBytes} bytes`,
    });
    return [
      {
        scenario: `ingest ${dialect} (transitions/s)`,
        ordercast: oS,
        baseline: bS,
        ratio,
        target: `≥ 0.5× baseline${absolute ? `; ≥ ${absolute}/s` : ''}`,
        meets: ratio >= 0.5 && oS.median >= absolute,
        notes: `p99 ${summarize(oursP99).median} ms vs ${summarize(baseP99).median} ms; ${connections} connections, ${durationSec} s, every transition committed with its event row`,
      },
      ...rows,
    ];
  } finally {
    await server.stop();
    await baseline.stop();
    await schema?.drop();
    await baselineSchema?.drop();
    tmp.remove();
  }
}

const AGE_WINDOW = 20;

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
async function costWithAge(baseUrl, headers, secretKey, quick) {
  const [id] = await seedOrders(baseUrl, secretKey, 1);
  const oldAt = quick ? 200 : 2000;
  const youngAt = 20;
  const timings = new Map();
  const bytes = new Map();
  for (let change = 1; change <= oldAt + AGE_WINDOW / 2; change++) {
    const started = performance.now();
    const body = await postStatus(baseUrl, headers, id, change % 2 ? 'pong' : 'ping');
    timings.set(change, performance.now() - started);
    bytes.set(change, body.length);
  }
  const around = (at) => summarize(Array.from({ length: AGE_WINDOW }, (_, i) => timings.get(at - AGE_WINDOW / 2 + i))).median;
  return {
    oldAt,
    youngAt,
    oldMs: Number(around(oldAt).toFixed(3)),
    youngMs: Number(around(youngAt).toFixed(3)),
    oldBytes: bytes.get(oldAt),
    youngBytes: bytes.get(youngAt),
  };
}

export async function ingestScenario(options) {
  const rows = [...(await ingestOn('sqlite', undefined, options))];
  const pgUrl = process.env.ORDERCAST_BENCH_DATABASE_URL ?? process.env.ORDERCAST_TEST_DATABASE_URL;
  if (pgUrl) rows.push(...(await ingestOn('postgres', pgUrl, options)));
  else options.log('ingest postgres: SKIPPED (set ORDERCAST_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
  return rows;
}
