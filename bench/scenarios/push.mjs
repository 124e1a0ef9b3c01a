// push: commit-to-client latency (p50/p99/max) for many subscribed clients, one order
// each, while transitions are written at a steady rate spread over them; on Socket.IO and
// on Centrifuge. Baseline: a bare `ws` server sending the same payloads to the same
// number of clients at the same rate. Clients run in their own processes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, cliJson, startBaseline, startOrdercast, startProcess, tempDir } from '../lib/processes.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { userClients } from '../lib/user-clients.mjs';
import { summarize } from '../lib/stats.mjs';

const CLIENT_PROCESSES = 2;
const PING_PONG = { name: 'ping-pong', statuses: ['ping', 'pong', 'end'], initial: ['ping'], final: ['end'], transitions: { ping: ['pong', 'end'], pong: ['ping', 'end'] } };

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Starts the client processes for one gateway; resolves once every connection is subscribed. */
async function startClients(tmp, kind, base, clients) {
  const procs = [];
  for (let p = 0; p < CLIENT_PROCESSES; p++) {
    const file = path.join(tmp, `clients-${kind}-${p}.json`);
    writeFileSync(file, JSON.stringify({ ...base, kind, clients: clients.filter((_, i) => i % CLIENT_PROCESSES === p) }));
    const proc = startProcess([path.join(ROOT, 'bench/lib/push-clients.mjs'), file], { ready: /ready (\d+)(.*)/, timeoutMs: 300_000, stdin: 'pipe' });
    procs.push(proc);
  }
  try {
    const ready = await Promise.all(procs.map((p) => p.started));
    const connected = ready.reduce((n, m) => n + Number(m[1]), 0);
    if (connected !== clients.length) throw new Error(`push ${kind}: only ${connected} of ${clients.length} clients subscribed${ready.map((m) => m[2]).join('')}`);
  } catch (error) {
    await Promise.all(procs.map((p) => p.stop()));
    throw error;
  }
  return {
    async stop() {
      const results = await Promise.all(
        procs.map(
          (p) =>
            new Promise((resolve) => {
              let out = '';
              p.child.stdout.on('data', (c) => {
                out += c;
                const line = out.split('\n').find((l) => l.startsWith('{'));
                if (line && out.endsWith('\n')) resolve(JSON.parse(line));
              });
              p.child.stdin?.write('stop\n');
            }),
        ),
      );
      await Promise.all(procs.map((p) => p.stop()));
      const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
      return {
        received: latencies.length,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1),
        gaps: results.reduce((n, r) => n + r.gaps, 0),
        duplicates: results.reduce((n, r) => n + r.duplicates, 0),
      };
    },
  };
}

/**
 * Writes `rate` transitions per second for `seconds`, spread over the orders, never two
 * at once on one order. `status` holds each order's status and is kept across drives.
 */
async function drive(baseUrl, secretKey, orderIds, status, rate, seconds) {
  const inFlight = new Set();
  const headers = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
  const total = rate * seconds;
  const started = Date.now();
  let sent = 0;
  let turn = 0;
  let failed = 0;
  let firstFailure;
  const pending = new Set();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
    for (; sent < due; sent++) {
      let id;
      do id = orderIds[turn++ % orderIds.length];
      while (inFlight.has(id));
      inFlight.add(id);
      const next = status.get(id) === 'ping' ? 'pong' : 'ping';
      const p = fetch(`${baseUrl}/api/v2/orders/${id}/status`, { method: 'POST', headers, body: JSON.stringify({ status: next }) })
        .then(async (r) => {
          const text = await r.text();
          if (r.status === 200) status.set(id, next);
          else {
            failed++;
            firstFailure ??= `${r.status} ${text}`;
          }
        })
        .catch((error) => {
          failed++;
          firstFailure ??= String(error);
        })
        .finally(() => {
          inFlight.delete(id);
          pending.delete(p);
        });
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  if (failed > 0) throw new Error(`push: ${failed} transitions failed; first: ${firstFailure}`);
  return total;
}

export async function pushScenario({ quick, runs, log }) {
  const clientCount = quick ? 400 : 10_000;
  const rate = quick ? 200 : 1000;
  const seconds = quick ? 3 : 6;
  const tmp = tempDir('push');
  const lifecycleFile = path.join(tmp.dir, 'ping-pong.json');
  writeFileSync(lifecycleFile, JSON.stringify(PING_PONG));
  const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', lifecycleFile, '--json', '--data-dir', tmp.dir]);
  const server = await startOrdercast({ dataDir: tmp.dir, env: { ORDERCAST_WS_HANDSHAKE_RATE: '0' } });
  const samples = { socketio: [], centrifuge: [], bare: [] };
  const notes = { socketio: [], centrifuge: [], bare: [] };
  try {
    log(`push: seeding ${clientCount} orders, one user each`);
    const orderIds = await seedOrders(server.baseUrl, project.secretKey, clientCount, (i) => ({ userExternalId: `user-${i}` }));
    const clients = await userClients(project, orderIds);
    const base = { url: server.baseUrl, secretKey: project.secretKey, projectId: project.id };
    const status = new Map(orderIds.map((id) => [id, 'ping']));
    for (let run = 1; run <= runs; run++) {
      for (const kind of ['socketio', 'centrifuge', 'bare']) {
        const baseline = kind === 'bare' ? await startBaseline('bare-ws-server.mjs') : undefined;
        const group = await startClients(tmp.dir, kind, baseline ? { url: baseline.baseUrl } : base, clients);
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
        log(`push ${kind} run ${run}/${runs}: p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms over ${result.received} updates`);
      }
    }
  } finally {
    await server.stop();
    tmp.remove();
  }
  const bare = summarize(samples.bare);
  return ['socketio', 'centrifuge'].map((kind) => {
    const o = summarize(samples[kind]);
    const ratio = o.median / bare.median;
    const mid = notes[kind][Math.floor(notes[kind].length / 2)];
    return {
      scenario: `push ${kind === 'socketio' ? 'Socket.IO' : 'Centrifuge'} (p99 ms, lower is better)`,
      ordercast: o,
      baseline: bare,
      ratio,
      target: '≤ 1.5× baseline; ≤ 50 ms',
      meets: ratio <= 1.5 && o.median <= 50,
      notes: `${clientCount} clients, ${rate} transitions/s for ${seconds} s; p50 ${mid.p50.toFixed(1)} ms, max ${mid.max.toFixed(1)} ms; no gaps or duplicates; baseline p50 ${notes.bare[0].p50.toFixed(1)} ms`,
    };
  });
}
