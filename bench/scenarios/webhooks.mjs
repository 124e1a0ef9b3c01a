// webhooks: deliveries/s end to end and commit-to-receipt latency to a loopback
// receiver answering 200, signatures on. Baseline: an undici keep-alive POST loop
// with the same concurrency and body shape to the same receiver (the endpoint's lane is
// as wide as the loop's concurrency).
//  - throughput: a backlog of N events is written once with dispatching off; each run, a
//    server with dispatching on drains a copy of it: N / (last receipt - server start).
//  - latency: events written at a steady rate; p99 of receipt - createdAt (the commit).
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { cpuSeconds, mainThreadCpuSeconds } from '../lib/cpu.mjs';
import { ROOT, cliJson, startOrdercast, startProcess, tempDir } from '../lib/processes.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { freshPgSchema } from '../lib/pg-schema.mjs';
import { summarize } from '../lib/stats.mjs';

const CONCURRENCY = 32;

async function stats(receiver) {
  return (await fetch(`${receiver}/stats`)).json();
}

export async function waitForUnique(receiver, expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(receiver);
    if (s.unique >= expected) return s;
    if (Date.now() > deadline) throw new Error(`webhooks: only ${s.unique} of ${expected} deliveries arrived in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runPostLoop(url, count, rate) {
  const args = [path.join(ROOT, 'bench/baselines/post-loop.mjs'), url, String(count), String(CONCURRENCY)];
  if (rate) args.push(String(rate));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`post loop failed: ${err}`)))),
  );
}

async function paced(count, rate, send) {
  const started = Date.now();
  const inFlight = new Set();
  for (let i = 0; i < count; i++) {
    const wait = started + (i / rate) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const p = send(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}

/**
 * The drain on PostgreSQL: each run seeds a fresh schema (written with dispatching off),
 * then a server with dispatching on drains it; the same undici loop is the baseline.
 */
async function postgresDrain({ quick, runs, log }, pgUrl, receiver) {
  const backlog = quick ? 2000 : 10_000;
  const env = { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_CONCURRENCY: String(CONCURRENCY) };
  const samples = { ours: [], base: [] };
  for (let run = 1; run <= runs; run++) {
    const schema = await freshPgSchema(pgUrl, 'bench_webhooks');
    const tmp = tempDir('webhooks-pg');
    try {
      const db = ['--data-dir', tmp.dir, '--database-url', schema.url];
      const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', 'onramp', '--json', ...db]);
      const headers = { authorization: `Bearer ${project.secretKey}`, 'content-type': 'application/json' };
      const writer = await startOrdercast({ dataDir: tmp.dir, databaseUrl: schema.url, env: { ...env, ORDERCAST_WEBHOOK_DISPATCH: 'false' } });
      await fetch(`${writer.baseUrl}/api/v2/webhook-endpoints`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ url: `${receiver}/hook`, maxInFlight: CONCURRENCY }),
      });
      log(`webhooks postgres: writing a backlog of ${backlog} events`);
      await seedOrders(writer.baseUrl, project.secretKey, backlog, (i) => ({ externalId: `wh-${i}`, amount: '25.00', currency: 'EUR', status: 'PROCESSING' }));
      await writer.stop();
      await fetch(`${receiver}/reset`, { method: 'POST' });
      const t0 = performance.timeOrigin + performance.now();
      const server = await startOrdercast({ dataDir: tmp.dir, databaseUrl: schema.url, env });
      try {
        const drained = await waitForUnique(receiver, backlog, 600_000);
        samples.ours.push(backlog / ((drained.lastAt - t0) / 1000));
      } finally {
        await server.stop();
      }
      await fetch(`${receiver}/reset`, { method: 'POST' });
      const { started } = await runPostLoop(`${receiver}/hook`, backlog);
      samples.base.push(backlog / (((await stats(receiver)).lastAt - started) / 1000));
      log(`webhooks postgres run ${run}/${runs}: ${Math.round(samples.ours.at(-1))} vs ${Math.round(samples.base.at(-1))} deliveries/s`);
    } finally {
      tmp.remove();
      await schema.drop();
    }
  }
  const o = summarize(samples.ours);
  const b = summarize(samples.base);
  return {
    scenario: 'webhooks on PostgreSQL (deliveries/s)',
    ordercast: o,
    baseline: b,
    ratio: o.median / b.median,
    target: '≥ 0.5× baseline',
    meets: o.median / b.median >= 0.5,
    notes: `drain of ${backlog} events from a fresh schema each run, ${CONCURRENCY} concurrent (the endpoint's lane as wide); baseline: the same undici loop`,
  };
}

export async function webhooksScenario(options) {
  const rows = await sqliteWebhooks(options);
  const pgUrl = process.env.ORDERCAST_BENCH_DATABASE_URL;
  if (!pgUrl) {
    options.log('webhooks postgres: SKIPPED (set ORDERCAST_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
    return rows;
  }
  const receiverProc = startProcess([path.join(ROOT, 'bench/lib/webhook-receiver.mjs')], { ready: /listening (http:\/\/\S+)/ });
  try {
    rows.push(await postgresDrain(options, pgUrl, (await receiverProc.started)[1]));
  } finally {
    await receiverProc.stop();
  }
  return rows;
}

async function sqliteWebhooks({ quick, runs, log }) {
  const backlog = quick ? 2000 : 50_000;
  const rate = quick ? 200 : 500;
  const steadySeconds = quick ? 3 : 4;
  const receiverProc = startProcess([path.join(ROOT, 'bench/lib/webhook-receiver.mjs')], { ready: /listening (http:\/\/\S+)/ });
  const receiver = (await receiverProc.started)[1];
  const env = { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_CONCURRENCY: String(CONCURRENCY) };
  const samples = { ours: [], base: [], oursP99: [], baseP99: [], oursP50: [], baseP50: [], cpu: [], mainCpu: [] };
  // The backlog is written once, by a server with dispatching off, and copied for each run.
  const seed = tempDir('webhooks-seed');
  const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', 'onramp', '--json', '--data-dir', seed.dir]);
  const headers = { authorization: `Bearer ${project.secretKey}`, 'content-type': 'application/json' };
  try {
    const writer = await startOrdercast({ dataDir: seed.dir, env: { ...env, ORDERCAST_WEBHOOK_DISPATCH: 'false' } });
    const endpoint = await (
      await fetch(`${writer.baseUrl}/api/v2/webhook-endpoints`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ url: `${receiver}/hook`, maxInFlight: CONCURRENCY }),
      })
    ).json();
    if (!endpoint.secret) throw new Error(`could not create the webhook endpoint: ${JSON.stringify(endpoint)}`);
    log(`webhooks: writing a backlog of ${backlog} events`);
    await seedOrders(writer.baseUrl, project.secretKey, backlog, (i) => ({ externalId: `wh-${i}`, amount: '25.00', currency: 'EUR', status: 'PROCESSING' }));
    await writer.stop();
    for (let run = 1; run <= runs; run++) {
      const tmp = tempDir('webhooks');
      cpSync(seed.dir, tmp.dir, { recursive: true });
      try {
        // Drain the backlog.
        await fetch(`${receiver}/reset`, { method: 'POST' });
        const t0 = performance.timeOrigin + performance.now();
        const server = await startOrdercast({ dataDir: tmp.dir, env });
        try {
          // Server CPU per delivery (every thread of the process), steadier than throughput on a shared machine.
          const cpuAtReady = cpuSeconds(server.pid);
          const mainAtReady = mainThreadCpuSeconds(server.pid);
          const drained = await waitForUnique(receiver, backlog, 600_000);
          const cpuPerDelivery = ((cpuSeconds(server.pid) - cpuAtReady) / backlog) * 1e6;
          // The main thread's share: it signs, POSTs, serves the API and (on SQLite) does the queue's database work.
          const mainPerDelivery = ((mainThreadCpuSeconds(server.pid) - mainAtReady) / backlog) * 1e6;
          const ours = backlog / ((drained.lastAt - t0) / 1000);
          // Steady rate: commit-to-receipt latency.
          await fetch(`${receiver}/reset`, { method: 'POST' });
          const steady = rate * steadySeconds;
          const create = (i) =>
            fetch(`${server.baseUrl}/api/v2/orders`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ externalId: `steady-${i}`, status: 'PROCESSING' }),
            }).then((r) => r.arrayBuffer());
          // On a loaded machine a keep-alive connection can be reset as a request goes out: once
          // more. If the first try was committed, the second is refused and one delivery is still due.
          await paced(steady, rate, (i) => create(i).catch(() => create(i)));
          const steadyStats = await waitForUnique(receiver, steady, 120_000);
          // Baseline, same receiver and concurrency.
          await fetch(`${receiver}/reset`, { method: 'POST' });
          const { started } = await runPostLoop(`${receiver}/hook`, backlog);
          const baseDrain = await stats(receiver);
          const base = backlog / ((baseDrain.lastAt - started) / 1000);
          await fetch(`${receiver}/reset`, { method: 'POST' });
          await runPostLoop(`${receiver}/hook`, steady, rate);
          const baseSteady = await stats(receiver);
          samples.ours.push(ours);
          samples.cpu.push(cpuPerDelivery);
          samples.mainCpu.push(mainPerDelivery);
          samples.base.push(base);
          samples.oursP99.push(steadyStats.p99);
          samples.baseP99.push(baseSteady.p99);
          samples.oursP50.push(steadyStats.p50);
          samples.baseP50.push(baseSteady.p50);
          log(
            `webhooks run ${run}/${runs}: ${Math.round(ours)} vs ${Math.round(base)} deliveries/s (${Math.round(cpuPerDelivery)} µs server CPU per delivery, ${Math.round(mainPerDelivery)} µs of it on the main thread); p50/p99 at ${rate}/s ${steadyStats.p50.toFixed(1)}/${steadyStats.p99.toFixed(1)} vs ${baseSteady.p50.toFixed(1)}/${baseSteady.p99.toFixed(1)} ms`,
          );
        } finally {
          await server.stop();
        }
      } finally {
        tmp.remove();
      }
    }
  } finally {
    await receiverProc.stop();
    seed.remove();
  }
  const o = summarize(samples.ours);
  const b = summarize(samples.base);
  const ratio = o.median / b.median;
  return [
    {
      scenario: 'webhooks (deliveries/s)',
      ordercast: o,
      baseline: b,
      ratio,
      target: '≥ 0.6× baseline; ≥ 3000/s',
      meets: ratio >= 0.6 && o.median >= 3000,
      notes: `drain of ${backlog} events, ${CONCURRENCY} concurrent; commit-to-receipt p99 at ${rate} events/s: ${summarize(samples.oursP99).median.toFixed(1)} ms vs ${summarize(samples.baseP99).median.toFixed(1)} ms (p50 ${summarize(samples.oursP50).median.toFixed(1)} vs ${summarize(samples.baseP50).median.toFixed(1)} ms); server CPU per delivery in the drain ${Math.round(summarize(samples.cpu).median)} µs (main thread ${Math.round(summarize(samples.mainCpu).median)} µs)`,
    },
    {
      scenario: `webhooks commit-to-receipt p99 at ${rate} events/s (ms)`,
      ordercast: summarize(samples.oursP99),
      baseline: summarize(samples.baseP99),
      ratio: summarize(samples.oursP99).median / summarize(samples.baseP99).median,
      target: '≤ 3× baseline',
      meets: summarize(samples.oursP99).median <= 3 * summarize(samples.baseP99).median,
      notes: `events written at a steady ${rate}/s for ${steadySeconds} s; receipt − the event's createdAt (its commit); baseline: the undici loop paced the same, receipt − when each POST was due`,
    },
  ];
}
