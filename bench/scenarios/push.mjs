// push: commit-to-client latency (p50/p99/max) for many subscribed clients, one order
// each, while transitions are written at a steady rate spread over them; on Socket.IO and
// on Centrifuge. Baselines: a bare `ws` server sending the same payloads to the same
// number of clients at the same rate, and the same server committing each update to
// SQLite before sending it (durable). Clients run in their own processes.
import { startBaseline, startOrdercast, tempDir } from '../lib/processes.mjs';
import { drive, startClients } from '../lib/push-harness.mjs';
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { userClients } from '../lib/user-clients.mjs';
import { summarize } from '../lib/stats.mjs';

export async function pushScenario({ quick, runs, log }) {
  const clientCount = quick ? 400 : 10_000;
  const rate = quick ? 200 : 1000;
  const seconds = quick ? 3 : 4;
  const tmp = tempDir('push');
  const project = await createPingPongProject(tmp.dir);
  const server = await startOrdercast({ dataDir: tmp.dir, env: { ORDERCAST_WS_HANDSHAKE_RATE: '0' } });
  const samples = { socketio: [], centrifuge: [], bare: [], durable: [] };
  const notes = { socketio: [], centrifuge: [], bare: [], durable: [] };
  try {
    log(`push: seeding ${clientCount} orders, one user each`);
    const orderIds = await seedOrders(server.baseUrl, project.secretKey, clientCount, (i) => ({ userExternalId: `user-${i}` }));
    const clients = await userClients(project, orderIds);
    const base = { url: server.baseUrl, secretKey: project.secretKey, projectId: project.id };
    const status = new Map(orderIds.map((id) => [id, 'ping']));
    for (let run = 1; run <= runs; run++) {
      for (const kind of ['socketio', 'centrifuge', 'bare', 'durable']) {
        const baseline =
          kind === 'bare'
            ? await startBaseline('bare-ws-server.mjs')
            : kind === 'durable'
              ? await startBaseline('bare-ws-server.mjs', { BASELINE_DURABLE_DIR: tmp.dir })
              : undefined;
        const group = await startClients(tmp.dir, kind, [baseline ? { url: baseline.baseUrl } : base], clients);
        if (baseline) {
          await fetch(`${baseline.baseUrl}/start?rate=${rate}&seconds=${seconds}`, { method: 'POST' });
          await new Promise((r) => setTimeout(r, seconds * 1000));
        } else {
          await drive(server.baseUrl, project.secretKey, orderIds, status, rate, seconds);
        }
        await new Promise((r) => setTimeout(r, 1500));
        const result = await group.stop();
        await baseline?.stop();
        const expected = rate * seconds;
        if (result.received < expected || result.gaps > 0 || result.duplicates > 0) {
          throw new Error(`push ${kind}: ${result.received} of ${expected} updates, ${result.gaps} gaps, ${result.duplicates} duplicates`);
        }
        samples[kind].push(result.p99);
        notes[kind].push(result);
        log(
          `push ${kind} run ${run}/${runs}: p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms over ${result.received} updates`,
        );
      }
    }
  } finally {
    await server.stop();
    tmp.remove();
  }
  const bare = summarize(samples.bare);
  const durable = summarize(samples.durable);
  return ['socketio', 'centrifuge'].map((kind) => {
    const o = summarize(samples[kind]);
    const ratio = o.median / durable.median;
    const mid = notes[kind][Math.floor(notes[kind].length / 2)];
    return {
      scenario: `push ${kind === 'socketio' ? 'Socket.IO' : 'Centrifuge'} (p99 ms vs the durable baseline, lower is better)`,
      ordercast: o,
      baseline: durable,
      ratio,
      target: '≤ 1.5× durable baseline; ≤ 20 ms',
      meets: ratio <= 1.5 && o.median <= 20,
      notes: `${clientCount} clients, ${rate} transitions/s for ${seconds} s; p50 ${mid.p50.toFixed(1)} ms, max ${mid.max.toFixed(1)} ms; no gaps or duplicates; durable baseline p50 ${notes.durable[0].p50.toFixed(1)} ms; bare baseline p99 ${bare.median.toFixed(1)} ms (${(o.median / bare.median).toFixed(2)}× it), p50 ${notes.bare[0].p50.toFixed(1)} ms`,
    };
  });
}
