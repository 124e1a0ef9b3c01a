// fanout: the push scenario (Socket.IO) with its clients split over 2 server processes
// joined by Redis, every update written through the first: p99 commit-to-client latency,
// and CPU seconds of the server processes per delivered message. Baseline: the same
// clients and writes on 1 process with the in-process broker. Both share one SQLite file.
// Each measurement follows warm-up writes and subtracts the CPU of a quiet window of the
// same length just before it (as idle-nodes does); the notes give the raw figures too.
import { cpuSeconds } from '../lib/cpu.mjs';
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { startOrdercast, tempDir } from '../lib/processes.mjs';
import { drive, startClients } from '../lib/push-harness.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

const DRAIN_MS = 1500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(tmp, servers, orderIds, status, secretKey, clients, rate, seconds) {
  const group = await startClients(
    tmp,
    'socketio',
    servers.map((s) => ({ url: s.baseUrl, secretKey })),
    clients,
  );
  let result;
  let raw;
  let net;
  try {
    // Warm-up writes, as many as the measured ones, counted neither in latency nor in CPU: the
    // first seconds of writes after 10,000 connections cost a server some three times the
    // later ones (V8 compiling the delivery path, and its first major collection since the
    // connections came).
    await drive(servers[0].baseUrl, secretKey, orderIds, status, rate, seconds);
    await sleep(DRAIN_MS);
    await group.mark();
    // A quiet window first: what the servers spend with no writes (Socket.IO pings to every
    // client, credential re-checks, the log poll) is not a cost of the messages.
    const quietStart = servers.map((s) => cpuSeconds(s.pid));
    const quietStarted = Date.now();
    await sleep(seconds * 1000 + DRAIN_MS);
    const quietMs = Date.now() - quietStarted;
    const before = servers.map((s) => cpuSeconds(s.pid));
    const quiet = before.map((cpu, i) => cpu - quietStart[i]);
    const started = Date.now();
    await drive(servers[0].baseUrl, secretKey, orderIds, status, rate, seconds);
    await sleep(DRAIN_MS);
    const busyMs = Date.now() - started;
    raw = servers.map((s, i) => cpuSeconds(s.pid) - before[i]);
    net = raw.map((cpu, i) => Math.max(0, cpu - quiet[i] * (busyMs / quietMs)));
  } finally {
    result = await group.stop();
  }
  // The last server only delivers (writes go through the first): its CPU per update its clients received.
  const last = servers.length - 1;
  const deliveredByLast = result.receivedByProcess.filter((_, p) => p % servers.length === last).reduce((n, c) => n + c, 0);
  const expected = rate * seconds;
  if (result.received < expected || result.gaps > 0 || result.duplicates > 0) {
    throw new Error(`fanout: ${result.received} of ${expected} updates, ${result.gaps} gaps, ${result.duplicates} duplicates`);
  }
  const sum = (values) => values.reduce((total, c) => total + c, 0);
  return {
    ...result,
    cpuPerMessageMs: (sum(net) / result.received) * 1000,
    rawCpuPerMessageMs: (sum(raw) / result.received) * 1000,
    deliveringNodeCpuPerMessageMs: (net[last] / deliveredByLast) * 1000,
    rawDeliveringNodeCpuPerMessageMs: (raw[last] / deliveredByLast) * 1000,
  };
}

export async function fanoutScenario({ quick, runs, log }) {
  const redisUrl = process.env.ORDERCAST_BENCH_REDIS_URL ?? process.env.ORDERCAST_TEST_REDIS_URL;
  if (!redisUrl) {
    log('fanout: SKIPPED (set ORDERCAST_BENCH_REDIS_URL=redis://127.0.0.1:6379)');
    return [];
  }
  const clientCount = quick ? 400 : 10_000;
  const rate = quick ? 200 : 1000;
  const seconds = quick ? 3 : 4;
  const tmp = tempDir('fanout');
  const project = await createPingPongProject(tmp.dir);
  const env = { ORDERCAST_WS_HANDSHAKE_RATE: '0' };
  const samples = { twoP99: [], oneP99: [], twoCpu: [], oneCpu: [], delivering: [], twoRaw: [], oneRaw: [], deliveringRaw: [] };
  try {
    const seeder = await startOrdercast({ dataDir: tmp.dir, env });
    log(`fanout: seeding ${clientCount} orders`);
    const orderIds = await seedOrders(seeder.baseUrl, project.secretKey, clientCount, (i) => ({ userExternalId: `user-${i}` }));
    await seeder.stop();
    const clients = orderIds.map((orderId) => ({ orderId }));
    const status = new Map(orderIds.map((id) => [id, 'ping']));
    // A fresh Redis channel per run, so nothing from another run or deployment crosses over.
    for (let run = 1; run <= runs; run++) {
      const channel = `ordercast:bench:${Date.now().toString(36)}`;
      const redisEnv = { ...env, ORDERCAST_REDIS_URL: redisUrl, ORDERCAST_REDIS_CHANNEL: channel };
      const measureOn = async (envs) => {
        const servers = [];
        try {
          for (const e of envs) servers.push(await startOrdercast({ dataDir: tmp.dir, env: e }));
          return await measure(tmp.dir, servers, orderIds, status, project.secretKey, clients, rate, seconds);
        } finally {
          for (const server of servers) await server.stop();
        }
      };
      const two = await measureOn([redisEnv, redisEnv]);
      const one = await measureOn([env]);
      samples.twoP99.push(two.p99);
      samples.oneP99.push(one.p99);
      samples.twoCpu.push(two.cpuPerMessageMs);
      samples.oneCpu.push(one.cpuPerMessageMs);
      samples.delivering.push(two.deliveringNodeCpuPerMessageMs);
      samples.twoRaw.push(two.rawCpuPerMessageMs);
      samples.oneRaw.push(one.rawCpuPerMessageMs);
      samples.deliveringRaw.push(two.rawDeliveringNodeCpuPerMessageMs);
      log(
        `fanout run ${run}/${runs}: p99 ${two.p99.toFixed(1)} vs ${one.p99.toFixed(1)} ms; CPU per message ${two.cpuPerMessageMs.toFixed(3)} vs ${one.cpuPerMessageMs.toFixed(3)} ms (without subtracting the quiet window ${two.rawCpuPerMessageMs.toFixed(3)} vs ${one.rawCpuPerMessageMs.toFixed(3)}); delivering node ${two.deliveringNodeCpuPerMessageMs.toFixed(3)} ms (${two.rawDeliveringNodeCpuPerMessageMs.toFixed(3)})`,
      );
    }
  } finally {
    tmp.remove();
  }
  const p99 = { two: summarize(samples.twoP99), one: summarize(samples.oneP99) };
  const cpu = { two: summarize(samples.twoCpu), one: summarize(samples.oneCpu) };
  const raw = { two: summarize(samples.twoRaw), one: summarize(samples.oneRaw), delivering: summarize(samples.deliveringRaw) };
  const note = `${clientCount} Socket.IO clients over 2 processes vs 1, ${rate} transitions/s for ${seconds} s through the first, after as many warm-up writes; CPU less the same servers' CPU over a quiet window just before; no gaps or duplicates`;
  const row = (scenario, stat, limit, extra = '') => ({
    scenario,
    ordercast: stat.two,
    baseline: stat.one,
    ratio: stat.two.median / stat.one.median,
    target: `≤ ${limit}× one process`,
    meets: stat.two.median / stat.one.median <= limit,
    notes: `${extra}${note}`,
  });
  const delivering = summarize(samples.delivering);
  return [
    row('fan-out via Redis, p99 ms (lower is better)', p99, 1.5),
    row(
      'fan-out via Redis, CPU ms per message',
      cpu,
      1.3,
      `without subtracting the quiet window ${raw.two.median.toFixed(3)} vs ${raw.one.median.toFixed(3)} ms (${(raw.two.median / raw.one.median).toFixed(2)}×); `,
    ),
    {
      scenario: 'fan-out via Redis, CPU ms per message on the node that only delivers',
      ordercast: delivering,
      baseline: cpu.one,
      ratio: delivering.median / cpu.one.median,
      target: '≤ 0.1 ms (baseline: one process, writes included)',
      meets: delivering.median <= 0.1,
      notes: `the second process's CPU over the updates its clients received (it serves no writes; Redis receive, log read, fan-out); without subtracting the quiet window ${raw.delivering.median.toFixed(3)} ms; ${note}`,
    },
  ];
}
