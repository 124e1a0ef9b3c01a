// The push benchmarks' moving parts: client processes that subscribe and time every
// update, and a driver that writes transitions at a steady rate.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startProcess } from './processes.mjs';

const CLIENT_PROCESSES = 2;

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Starts the client processes for one gateway; resolves once every connection is
 * subscribed. Client process p connects to bases[p % bases.length] (several servers).
 */
export async function startClients(tmp, kind, bases, clients) {
  const procs = [];
  for (let p = 0; p < CLIENT_PROCESSES; p++) {
    const file = path.join(tmp, `clients-${kind}-${p}.json`);
    writeFileSync(file, JSON.stringify({ ...bases[p % bases.length], kind, clients: clients.filter((_, i) => i % CLIENT_PROCESSES === p) }));
    const proc = startProcess([path.join(ROOT, 'bench/lib/push-clients.mjs'), file], { ready: /ready (\d+)(.*)/, timeoutMs: 300_000, stdin: 'pipe' });
    procs.push(proc);
  }
  try {
    const ready = await Promise.all(procs.map((p) => p.started));
    const connected = ready.reduce((n, m) => n + Number(m[1]), 0);
    if (connected !== clients.length)
      throw new Error(`push ${kind}: only ${connected} of ${clients.length} clients subscribed${ready.map((m) => m[2]).join('')}`);
  } catch (error) {
    await Promise.all(procs.map((p) => p.stop()));
    throw error;
  }
  return {
    /** Forgets the latencies received so far (a warm-up); gaps and repeats are still checked across it. */
    async mark() {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise((resolve) => {
              const onData = (c) => {
                if (!c.toString().includes('marked')) return;
                p.child.stdout.off('data', onData);
                resolve();
              };
              p.child.stdout.on('data', onData);
              p.child.stdin?.write('mark\n');
            }),
        ),
      );
    },
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
        /** Updates received by each client process, in order (process p talks to bases[p % bases.length]). */
        receivedByProcess: results.map((r) => r.latencies.length),
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
export async function drive(baseUrl, secretKey, orderIds, status, rate, seconds) {
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
          firstFailure ??= `${error}${error.cause ? ` (${error.cause})` : ''}`;
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
