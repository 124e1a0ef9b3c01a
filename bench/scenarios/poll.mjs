// poll: GET /api/v2/orders/{id} with a secret key over many orders, 50 connections;
// and the If-None-Match → 304 path. Baseline: bare Fastify with a constant order.
import { cpuSeconds } from '../lib/cpu.mjs';
import { cliJson, startBaseline, startOrdercast, tempDir } from '../lib/processes.mjs';
import { runLoad } from '../lib/run-load.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

/** Runs a load and adds the server's CPU time per answered request (steadier than throughput on a shared machine). */
async function withCpu(pid, load) {
  const before = cpuSeconds(pid);
  const result = await load();
  return { ...result, cpuMicrosPerRequest: ((cpuSeconds(pid) - before) * 1e6) / result.total };
}

export async function pollScenario({ quick, runs, log }) {
  const orderCount = quick ? 500 : 10_000;
  const durationSec = quick ? 2 : 4;
  const connections = 50;
  const tmp = tempDir('poll');
  const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', 'onramp', '--json', '--data-dir', tmp.dir]);
  const server = await startOrdercast({ dataDir: tmp.dir });
  const baseline = await startBaseline('bare-order-server.mjs');
  try {
    log(`poll: seeding ${orderCount} orders`);
    const ids = await seedOrders(server.baseUrl, project.secretKey, orderCount, (i) => ({
      externalId: `bench-${i}`,
      userExternalId: `user-${i % 100}`,
      amount: '25.00',
      currency: 'EUR',
      status: 'PROCESSING',
    }));
    const paths = ids.map((id) => `/api/v2/orders/${id}`);
    const headers = { authorization: `Bearer ${project.secretKey}` };
    const samples = { ours200: [], base200: [], ours304: [], base304: [], oursP99: [], baseP99: [], ours304P99: [], base304P99: [] };
    const cpu = { ours200: [], base200: [], ours304: [], base304: [] };
    // One unmeasured pass each first: a fresh server spends its first seconds compiling
    // its hot paths and collecting what start-up and the seeding left.
    for (const target of [server, baseline]) await runLoad({ url: target.baseUrl, connections, durationSec: 2, headers, paths });
    for (let run = 1; run <= runs; run++) {
      // Interleaved, so both sides see the same machine noise.
      const ours200 = await withCpu(server.pid, () => runLoad({ url: server.baseUrl, connections, durationSec, headers, paths }));
      const base200 = await withCpu(baseline.pid, () => runLoad({ url: baseline.baseUrl, connections, durationSec, headers, paths }));
      const ours304 = await withCpu(server.pid, () => runLoad({ url: server.baseUrl, connections, durationSec, headers, paths, ifNoneMatch: '"v1"' }));
      const base304 = await withCpu(baseline.pid, () => runLoad({ url: baseline.baseUrl, connections, durationSec, headers, paths, ifNoneMatch: '"v1"' }));
      for (const [name, r, expected] of [
        ['ours200', ours200, 200],
        ['base200', base200, 200],
        ['ours304', ours304, 304],
        ['base304', base304, 304],
      ]) {
        const wrong = Object.entries(r.statusCodes).filter(([code]) => Number(code) !== expected);
        if (wrong.length > 0 || r.errors > 0) throw new Error(`poll ${name}: unexpected answers ${JSON.stringify(r.statusCodes)}, errors ${r.errors}`);
      }
      for (const [name, r] of Object.entries({ ours200, base200, ours304, base304 })) cpu[name].push(r.cpuMicrosPerRequest);
      samples.ours200.push(ours200.requestsPerSec);
      samples.base200.push(base200.requestsPerSec);
      samples.ours304.push(ours304.requestsPerSec);
      samples.base304.push(base304.requestsPerSec);
      samples.oursP99.push(ours200.latencyP99);
      samples.baseP99.push(base200.latencyP99);
      samples.ours304P99.push(ours304.latencyP99);
      samples.base304P99.push(base304.latencyP99);
      log(
        `poll run ${run}/${runs}: 200 path ${Math.round(ours200.requestsPerSec)} vs ${Math.round(base200.requestsPerSec)} req/s; 304 path ${Math.round(ours304.requestsPerSec)} vs ${Math.round(base304.requestsPerSec)} req/s`,
      );
    }
    const rows = [];
    for (const [label, ours, base, oursP99, baseP99, oursCpu, baseCpu, target] of [
      ['poll 200 (req/s)', samples.ours200, samples.base200, samples.oursP99, samples.baseP99, cpu.ours200, cpu.base200, 0.85],
      ['poll 304 (req/s)', samples.ours304, samples.base304, samples.ours304P99, samples.base304P99, cpu.ours304, cpu.base304, 0.95],
    ]) {
      const o = summarize(ours);
      const b = summarize(base);
      const ratio = o.median / b.median;
      rows.push({
        scenario: label,
        ordercast: o,
        baseline: b,
        ratio,
        target: `≥ ${target}× baseline`,
        meets: ratio >= target,
        notes: `p99 ${summarize(oursP99).median} ms vs ${summarize(baseP99).median} ms; server CPU per request ${Math.round(summarize(oursCpu).median)} µs vs ${Math.round(summarize(baseCpu).median)} µs; ${orderCount} orders, ${connections} connections, ${durationSec} s`,
      });
    }
    return rows;
  } finally {
    await server.stop();
    await baseline.stop();
    tmp.remove();
  }
}
