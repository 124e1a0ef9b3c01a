// idle-nodes: 4 server processes joined by Redis, with clients on only one of them.
// Writes go through node W (no clients); node S holds every client; nodes I1 and I2
// have none. Each node subscribes in Redis only to what its clients follow, so I1 and
// I2 should hear of no write and only read the log on their timer. Figure: CPU per
// event (/proc/<pid>/stat, user + system) of the idle nodes, against the active node S
// in the same run: the CPU a node used while the writes ran, less what it used over a
// quiet window of the same length just before (timers: the log poll, the webhook
// dispatcher's poll, credential checks), divided by the events written; all after a few
// seconds of writes to warm every node up. Needs Redis; uses PostgreSQL when a URL is given, else one SQLite file.
//   ORDERCAST_BENCH_REDIS_URL=redis://127.0.0.1:6379 node bench/scenarios/idle-nodes.mjs [--quick] [--runs N]
import { cpuSeconds } from '../lib/cpu.mjs';
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { freshPgSchema } from '../lib/pg-schema.mjs';
import { startOrdercast, tempDir } from '../lib/processes.mjs';
import { drive, startClients } from '../lib/push-harness.mjs';
import { runAloneIfMain } from '../lib/run-alone.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

const WARM_UP_SECONDS = 3;
const SETTLE_AFTER_START_MS = 40_000;

export async function idleNodesScenario({ quick, runs, log }) {
  const redisUrl = process.env.ORDERCAST_BENCH_REDIS_URL ?? process.env.ORDERCAST_TEST_REDIS_URL;
  if (!redisUrl) {
    log('idle-nodes: SKIPPED (set ORDERCAST_BENCH_REDIS_URL=redis://127.0.0.1:6379)');
    return [];
  }
  const pgUrl = process.env.ORDERCAST_BENCH_DATABASE_URL ?? process.env.ORDERCAST_TEST_DATABASE_URL;
  const clientCount = quick ? 200 : 1000;
  const rate = quick ? 50 : 100;
  const seconds = quick ? 4 : 20;
  const tmp = tempDir('idle-nodes');
  const schema = pgUrl ? await freshPgSchema(pgUrl, 'bench_idle') : undefined;
  const samples = { idle: [], active: [], writer: [], idleRaw: [], activeRaw: [] };
  try {
    const project = await createPingPongProject(tmp.dir, schema ? ['--database-url', schema.url] : []);
    for (let run = 1; run <= runs; run++) {
      // A fresh channel prefix per run, so nothing from another run or deployment crosses over.
      const env = { ORDERCAST_WS_HANDSHAKE_RATE: '0', ORDERCAST_REDIS_URL: redisUrl, ORDERCAST_REDIS_CHANNEL: `ordercast:bench:${Date.now().toString(36)}` };
      const servers = [];
      try {
        for (let i = 0; i < 4; i++) servers.push(await startOrdercast({ dataDir: tmp.dir, databaseUrl: schema?.url, env }));
        const allStarted = Date.now();
        const [writer, active] = servers;
        const orderIds = await seedOrders(writer.baseUrl, project.secretKey, clientCount);
        const status = new Map(orderIds.map((id) => [id, 'ping']));
        const group = await startClients(
          tmp.dir,
          'socketio',
          [{ url: active.baseUrl, secretKey: project.secretKey }],
          orderIds.map((orderId) => ({ orderId })),
        );
        // Warm up (each node compiles its read path and grows its heap once, a one-off cost
        // that would otherwise land in the measured window), then a quiet window as long as the measured one.
        await drive(writer.baseUrl, project.secretKey, orderIds, status, rate, WARM_UP_SECONDS);
        // Every server, busy or not, spends 100-400 ms of CPU once, some 15-30 s after it starts
        // (V8 collecting what start-up left behind): measure after it, in the steady state.
        await new Promise((r) => setTimeout(r, Math.max(1500, quick ? 0 : allStarted + SETTLE_AFTER_START_MS - Date.now())));
        const quietStart = servers.map((s) => cpuSeconds(s.pid));
        const quietStarted = Date.now();
        await new Promise((r) => setTimeout(r, seconds * 1000 + 1500));
        const quietMs = Date.now() - quietStarted;
        const before = servers.map((s) => cpuSeconds(s.pid));
        const quiet = before.map((cpu, i) => cpu - quietStart[i]);
        const started = Date.now();
        await drive(writer.baseUrl, project.secretKey, orderIds, status, rate, seconds);
        await new Promise((r) => setTimeout(r, 1500));
        const busyMs = Date.now() - started;
        const raw = servers.map((s, i) => cpuSeconds(s.pid) - before[i]);
        const used = raw.map((cpu, i) => Math.max(0, cpu - quiet[i] * (busyMs / quietMs)));
        const result = await group.stop();
        const events = rate * seconds;
        if (result.received < events + rate * WARM_UP_SECONDS || result.gaps > 0 || result.duplicates > 0) {
          throw new Error(`idle-nodes: ${result.received} of ${events} updates, ${result.gaps} gaps, ${result.duplicates} duplicates`);
        }
        const perEvent = used.map((cpu) => (cpu / events) * 1000);
        const idleMs = Math.max(...perEvent.slice(2));
        const rawPerEvent = raw.map((cpu) => (cpu / events) * 1000);
        samples.idleRaw.push(Math.max(...rawPerEvent.slice(2)));
        samples.activeRaw.push(rawPerEvent[1]);
        samples.idle.push(idleMs);
        samples.active.push(perEvent[1]);
        samples.writer.push(perEvent[0]);
        log(
          `idle-nodes run ${run}/${runs}: CPU ms per event: writer ${perEvent[0].toFixed(3)}, active ${perEvent[1].toFixed(3)}, idle ${perEvent
            .slice(2)
            .map((v) => v.toFixed(3))
            .join(
              ', ',
            )} (idle/active ${(idleMs / perEvent[1]).toFixed(2)}); without subtracting the quiet window: active ${rawPerEvent[1].toFixed(3)}, idle ${rawPerEvent
            .slice(2)
            .map((v) => v.toFixed(3))
            .join(', ')}; p99 ${result.p99.toFixed(1)} ms`,
        );
      } finally {
        for (const server of servers) await server.stop();
      }
    }
  } finally {
    await schema?.drop().catch(() => {});
    tmp.remove();
  }
  const idle = summarize(samples.idle);
  const active = summarize(samples.active);
  const writer = summarize(samples.writer);
  const idleRaw = summarize(samples.idleRaw);
  const activeRaw = summarize(samples.activeRaw);
  return [
    {
      scenario: 'idle nodes via Redis, CPU ms per event (lower is better)',
      ordercast: idle,
      baseline: active,
      ratio: idle.median / active.median,
      target: '≤ 0.10× the active node',
      meets: idle.median / active.median <= 0.1,
      notes: `4 processes joined by Redis on ${schema ? 'PostgreSQL' : 'one SQLite file'}: writes (${rate}/s for ${seconds} s) through W, ${clientCount} Socket.IO clients all on S, none on the other two; figure: the busier idle node, less its quiet-window CPU; baseline: S, likewise; without subtracting: idle ${idleRaw.median.toFixed(3)} vs active ${activeRaw.median.toFixed(3)} ms (${(idleRaw.median / activeRaw.median).toFixed(2)}×); W (serving the writes) ${writer.median.toFixed(3)} ms per event; no gaps or duplicates`,
    },
  ];
}

await runAloneIfMain(import.meta.url, idleNodesScenario);
