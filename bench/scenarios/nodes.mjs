// nodes: several server processes on one PostgreSQL database and no Redis. Clients on
// node B follow orders that are written through node A at a steady rate; B hears of
// each write through LISTEN/NOTIFY and reads it from the log. Figure: p99 from commit
// on A to arrival at a client of B. Baseline: the same clients on A itself (the
// in-process hint), in the same run. Needs PostgreSQL; runs alone too:
//   ORDERCAST_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/scenarios/nodes.mjs [--quick] [--runs N]
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { freshPgSchema } from '../lib/pg-schema.mjs';
import { startOrdercast, tempDir } from '../lib/processes.mjs';
import { drive, startClients } from '../lib/push-harness.mjs';
import { runAloneIfMain } from '../lib/run-alone.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

export async function nodesScenario({ quick, runs, log }) {
  const pgUrl = process.env.ORDERCAST_BENCH_DATABASE_URL ?? process.env.ORDERCAST_TEST_DATABASE_URL;
  if (!pgUrl) {
    log('nodes: SKIPPED (set ORDERCAST_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
    return [];
  }
  const orderCount = quick ? 100 : 500;
  const rate = 50;
  const seconds = quick ? 4 : 10;
  const tmp = tempDir('nodes');
  const schema = await freshPgSchema(pgUrl, 'bench_nodes');
  // No Redis, whatever the environment says: the database alone joins the nodes.
  const env = { ORDERCAST_WS_HANDSHAKE_RATE: '0', ORDERCAST_REDIS_URL: '', REDIS_URL: '' };
  const samples = { otherP50: [], otherP99: [], sameP50: [], sameP99: [] };
  const servers = [];
  try {
    const project = await createPingPongProject(tmp.dir, ['--database-url', schema.url]);
    for (let i = 0; i < 2; i++) servers.push(await startOrdercast({ dataDir: tmp.dir, databaseUrl: schema.url, env }));
    const [a, b] = servers;
    log(`nodes: seeding ${orderCount} orders`);
    const orderIds = await seedOrders(a.baseUrl, project.secretKey, orderCount);
    const status = new Map(orderIds.map((id) => [id, 'ping']));
    const clients = orderIds.map((orderId) => ({ orderId }));
    const measure = async (clientNode, duration = seconds) => {
      const group = await startClients(tmp.dir, 'socketio', [{ url: clientNode.baseUrl, secretKey: project.secretKey }], clients);
      await drive(a.baseUrl, project.secretKey, orderIds, status, rate, duration);
      await new Promise((r) => setTimeout(r, 1500));
      const result = await group.stop();
      if (result.received < rate * duration || result.gaps > 0 || result.duplicates > 0) {
        throw new Error(`nodes: ${result.received} of ${rate * duration} updates, ${result.gaps} gaps, ${result.duplicates} duplicates`);
      }
      return result;
    };
    if (!quick) {
      // Not measured: each server spends some 100-400 ms of CPU once, in its first half minute
      // (V8 collecting what start-up and the first connections left behind).
      await measure(b, 5);
      await measure(a, 5);
    }
    for (let run = 1; run <= runs; run++) {
      // Alternate which node goes first, so neither always follows the other's clients leaving.
      let other;
      let same;
      if (run % 2 === 1) {
        other = await measure(b);
        same = await measure(a);
      } else {
        same = await measure(a);
        other = await measure(b);
      }
      samples.otherP50.push(other.p50);
      samples.otherP99.push(other.p99);
      samples.sameP50.push(same.p50);
      samples.sameP99.push(same.p99);
      log(
        `nodes run ${run}/${runs}: A→B p50 ${other.p50.toFixed(1)} p99 ${other.p99.toFixed(1)} max ${other.max.toFixed(1)} ms; A→A p50 ${same.p50.toFixed(1)} p99 ${same.p99.toFixed(1)} ms`,
      );
    }
  } finally {
    for (const server of servers) await server.stop();
    await schema.drop().catch(() => {});
    tmp.remove();
  }
  const p99 = { other: summarize(samples.otherP99), same: summarize(samples.sameP99) };
  const p50 = summarize(samples.otherP50);
  return [
    {
      scenario: 'nodes on PostgreSQL alone, write on A → client on B, p99 ms',
      ordercast: p99.other,
      baseline: p99.same,
      ratio: p99.other.median / p99.same.median,
      target: '≤ 150 ms',
      meets: p99.other.median <= 150,
      notes: `2 processes, no Redis (LISTEN/NOTIFY), ${orderCount} Socket.IO clients on B, ${rate} writes/s for ${seconds} s through A; A→B p50 ${p50.median.toFixed(1)} ms; baseline: the same clients on A; no gaps or duplicates`,
    },
  ];
}

await runAloneIfMain(import.meta.url, nodesScenario);
