// fanout: the push scenario (Socket.IO) with its clients split over 2 server processes
// joined by Redis, every update written through the first: p99 commit-to-client latency,
// and CPU seconds of the server processes per delivered message. Baseline: the same
// clients and writes on 1 process with the in-process broker. Both share one SQLite file.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliJson, startOrdercast, tempDir } from '../lib/processes.mjs';
import { drive, startClients } from '../lib/push-harness.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

const PING_PONG = { name: 'ping-pong', statuses: ['ping', 'pong', 'end'], initial: ['ping'], final: ['end'], transitions: { ping: ['pong', 'end'], pong: ['ping', 'end'] } };
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User plus system CPU seconds a process has used so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function measure(tmp, servers, orderIds, status, secretKey, clients, rate, seconds) {
  const group = await startClients(tmp, 'socketio', servers.map((s) => ({ url: s.baseUrl, secretKey })), clients);
  const cpuBefore = servers.map((s) => cpuSeconds(s.pid));
  await drive(servers[0].baseUrl, secretKey, orderIds, status, rate, seconds);
  await new Promise((r) => setTimeout(r, 1500));
  const cpu = servers.reduce((sum, s, i) => sum + cpuSeconds(s.pid) - cpuBefore[i], 0);
  const result = await group.stop();
  const expected = rate * seconds;
  if (result.received < expected || result.gaps > 0 || result.duplicates > 0) {
    throw new Error(`fanout: ${result.received} of ${expected} updates, ${result.gaps} gaps, ${result.duplicates} duplicates`);
  }
  return { ...result, cpuPerMessageMs: (cpu / result.received) * 1000 };
}

export async function fanoutScenario({ quick, runs, log }) {
  const redisUrl = process.env.ORDERCAST_BENCH_REDIS_URL ?? process.env.ORDERCAST_TEST_REDIS_URL;
  if (!redisUrl) {
    log('fanout: SKIPPED (set ORDERCAST_BENCH_REDIS_URL=redis://127.0.0.1:6379)');
    return [];
  }
  const clientCount = quick ? 400 : 10_000;
  const rate = quick ? 200 : 1000;
  const seconds = quick ? 3 : 6;
  const tmp = tempDir('fanout');
  const lifecycleFile = path.join(tmp.dir, 'ping-pong.json');
  writeFileSync(lifecycleFile, JSON.stringify(PING_PONG));
  const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', lifecycleFile, '--json', '--data-dir', tmp.dir]);
  const env = { ORDERCAST_WS_HANDSHAKE_RATE: '0' };
  const samples = { twoP99: [], oneP99: [], twoCpu: [], oneCpu: [] };
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
      const a = await startOrdercast({ dataDir: tmp.dir, env: redisEnv });
      const b = await startOrdercast({ dataDir: tmp.dir, env: redisEnv });
      let two;
      try {
        two = await measure(tmp.dir, [a, b], orderIds, status, project.secretKey, clients, rate, seconds);
      } finally {
        await a.stop();
        await b.stop();
      }
      const single = await startOrdercast({ dataDir: tmp.dir, env });
      let one;
      try {
        one = await measure(tmp.dir, [single], orderIds, status, project.secretKey, clients, rate, seconds);
      } finally {
        await single.stop();
      }
      samples.twoP99.push(two.p99);
      samples.oneP99.push(one.p99);
      samples.twoCpu.push(two.cpuPerMessageMs);
      samples.oneCpu.push(one.cpuPerMessageMs);
      log(`fanout run ${run}/${runs}: p99 ${two.p99.toFixed(1)} vs ${one.p99.toFixed(1)} ms; CPU per message ${two.cpuPerMessageMs.toFixed(3)} vs ${one.cpuPerMessageMs.toFixed(3)} ms`);
    }
  } finally {
    tmp.remove();
  }
  const p99 = { two: summarize(samples.twoP99), one: summarize(samples.oneP99) };
  const cpu = { two: summarize(samples.twoCpu), one: summarize(samples.oneCpu) };
  const note = `${clientCount} Socket.IO clients over 2 processes vs 1, ${rate} transitions/s for ${seconds} s through the first; no gaps or duplicates`;
  return [
    {
      scenario: 'fan-out via Redis, p99 ms (lower is better)',
      ordercast: p99.two,
      baseline: p99.one,
      ratio: p99.two.median / p99.one.median,
      target: '≤ 1.5× one process',
      meets: p99.two.median / p99.one.median <= 1.5,
      notes: note,
    },
    {
      scenario: 'fan-out via Redis, CPU ms per message',
      ordercast: cpu.two,
      baseline: cpu.one,
      ratio: cpu.two.median / cpu.one.median,
      target: '≤ 1.3× one process',
      meets: cpu.two.median / cpu.one.median <= 1.3,
      notes: note,
    },
  ];
}
