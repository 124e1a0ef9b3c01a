// webhook-tenants: a healthy tenant's webhooks beside a noisy tenant whose endpoints hang
// (issue #23's scenario). One server, default settings (private targets allowed: all on
// loopback). Project P2 has one endpoint answering 200 at once; project P3 has an HTTP
// endpoint that holds every request for 60 s and a TCP listener that accepts and never
// reads. Load: N orders per project, each created then moved three times, written with
// P2 and P3 interleaved at about 40 writes/s. Measured: P2's commit-to-receipt p99.
// Baseline: the same server and P2 load, before P3 has any endpoint (P2's writes alone,
// at the same pace), in the same run.
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { cliJson, ROOT, startOrdercast, startProcess, tempDir } from '../lib/processes.mjs';
import { summarize } from '../lib/stats.mjs';
import { waitForUnique } from './webhooks.mjs';

const MOVES = ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'COMPLETED'];
const WRITES_PER_SECOND = 40;

/** The noisy tenant's two endpoints, in this process: they only hold what they are given. */
async function startNoisyEndpoints() {
  const held = new Set();
  const hanging = http.createServer((req, res) => {
    req.resume();
    const timer = setTimeout(() => res.end('late'), 60_000);
    res.on('close', () => clearTimeout(timer));
  });
  hanging.on('connection', (socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });
  const silent = net.createServer({ pauseOnConnect: true }, (socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
  });
  await Promise.all([hanging, silent].map((server) => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))));
  return {
    urls: [`http://127.0.0.1:${hanging.address().port}/hook`, `http://127.0.0.1:${silent.address().port}/hook`],
    async close() {
      for (const socket of held) socket.destroy();
      await Promise.all([hanging, silent].map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}

function api(baseUrl, key) {
  return async (method, urlPath, body) => {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (response.status >= 300) throw new Error(`${method} ${urlPath}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Each project's orders created then moved three times, projects interleaved, paced at `rate` writes/s in all. */
async function writeInterleaved(calls, orders, rate) {
  const writes = [];
  const ids = calls.map(() => []);
  for (let i = 0; i < orders; i++) {
    for (const [p, call] of calls.entries()) {
      writes.push(async () => {
        ids[p].push((await call('POST', '/api/v2/orders', { status: 'AWAITING_PAYMENT_FROM_USER' })).id);
      });
    }
  }
  for (const status of MOVES) {
    for (let i = 0; i < orders; i++) {
      for (const [p, call] of calls.entries()) writes.push(() => call('POST', `/api/v2/orders/${ids[p][i]}/status`, { status }));
    }
  }
  const started = Date.now();
  for (let k = 0; k < writes.length; k++) {
    const wait = started + (k / rate) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await writes[k]();
  }
}

export async function webhookTenantsScenario({ quick, runs, log }) {
  const orders = quick ? 15 : 40;
  const expected = orders * (1 + MOVES.length);
  const receiverProc = startProcess([path.join(ROOT, 'bench/lib/webhook-receiver.mjs')], { ready: /listening (http:\/\/\S+)/ });
  const receiver = (await receiverProc.started)[1];
  const samples = { alone: [], noisy: [], delivered: [] };
  try {
    for (let run = 1; run <= runs; run++) {
      const tmp = tempDir('webhook-tenants');
      const noisyEndpoints = await startNoisyEndpoints();
      try {
        const p2 = await cliJson(['projects', 'create', '--name', 'P2', '--lifecycle', 'onramp', '--json', '--data-dir', tmp.dir]);
        const p3 = await cliJson(['projects', 'create', '--name', 'P3', '--lifecycle', 'onramp', '--json', '--data-dir', tmp.dir]);
        const server = await startOrdercast({ dataDir: tmp.dir, env: { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true' } });
        try {
          const healthy = api(server.baseUrl, p2.secretKey);
          const noisy = api(server.baseUrl, p3.secretKey);
          await healthy('POST', '/api/v2/webhook-endpoints', { url: `${receiver}/hook` });
          // Warm up the server's paths (JIT, connections) so neither phase pays for it.
          await fetch(`${receiver}/reset`, { method: 'POST' });
          await writeInterleaved([healthy], 5, 50);
          await waitForUnique(receiver, 5 * (1 + MOVES.length), 30_000);
          // P2 alone, at its share of the pace.
          await fetch(`${receiver}/reset`, { method: 'POST' });
          await writeInterleaved([healthy], orders, WRITES_PER_SECOND / 2);
          const alone = await waitForUnique(receiver, expected, 60_000);
          // P3's endpoints hang from now on.
          for (const url of noisyEndpoints.urls) await noisy('POST', '/api/v2/webhook-endpoints', { url });
          await fetch(`${receiver}/reset`, { method: 'POST' });
          await writeInterleaved([healthy, noisy], orders, WRITES_PER_SECOND);
          let beside;
          try {
            beside = await waitForUnique(receiver, expected, 30_000);
          } catch {
            // Not every event within 30 s of the last write: the row says how many came.
            beside = { ...(await (await fetch(`${receiver}/stats`)).json()), p99: Number.POSITIVE_INFINITY };
          }
          samples.alone.push(alone.p99);
          samples.noisy.push(beside.p99);
          samples.delivered.push(beside.unique);
          log(
            `webhook-tenants run ${run}/${runs}: P2's p99 ${beside.p99.toFixed(1)} ms beside P3 (${beside.unique}/${expected} delivered) vs ${alone.p99.toFixed(1)} ms alone (p50 ${beside.p50?.toFixed(1)} vs ${alone.p50.toFixed(1)} ms)`,
          );
        } finally {
          await server.stop();
        }
      } finally {
        await noisyEndpoints.close();
        tmp.remove();
      }
    }
  } finally {
    await receiverProc.stop();
  }
  const noisy = summarize(samples.noisy);
  const alone = summarize(samples.alone);
  const ratio = noisy.median / alone.median;
  const everyEvent = samples.delivered.every((n) => n === expected);
  return [
    {
      scenario: 'webhooks: healthy tenant beside a hanging one (P2 p99, ms)',
      ordercast: noisy,
      baseline: alone,
      ratio,
      target: '≤ 3× its p99 alone, ≤ 1000 ms; every event',
      meets: everyEvent && ratio <= 3 && noisy.max <= 1000,
      notes: `${orders} orders per project, created and moved 3 times (${expected} events each), P2 and P3 interleaved at ${WRITES_PER_SECOND} writes/s; P3: an HTTP endpoint holding each request 60 s and a TCP listener that never reads; baseline: P2's writes alone (${WRITES_PER_SECOND / 2}/s) before P3 has endpoints; P2 delivered ${samples.delivered.join(', ')} of ${expected}`,
    },
  ];
}
