// connections: memory per idle connection (RSS and heap growth over N connections) on
// the Socket.IO gateway (each connection following one order) and the Centrifuge
// gateway (each connection a user with its channel). Baseline: a bare `ws` server
// holding the same number of connections. Clients run in their own processes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { collectGarbage } from '../lib/collect-garbage.mjs';
import { ROOT, cliJson, startBaseline, startOrdercast, startProcess, tempDir } from '../lib/processes.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { userClients } from '../lib/user-clients.mjs';
import { summarize } from '../lib/stats.mjs';

const CLIENT_PROCESSES = 2;

function rssBytes(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match[1]) * 1024;
}

export async function ordercastHeap(server) {
  if (server.inspectorUrl) await collectGarbage(server.inspectorUrl);
  const text = await (await fetch(server.metricsUrl)).text();
  return Number(/^ordercast_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)[1]);
}

async function baselineHeap(server) {
  return (await (await fetch(`${server.baseUrl}/memory`)).json()).heapUsed;
}

const settle = (ms) => new Promise((r) => setTimeout(r, ms));

async function openClients(dir, kind, base, clients) {
  const procs = [];
  for (let p = 0; p < CLIENT_PROCESSES; p++) {
    const file = path.join(dir, `conn-${kind}-${p}.json`);
    writeFileSync(file, JSON.stringify({ ...base, kind, clients: clients.filter((_, i) => i % CLIENT_PROCESSES === p) }));
    procs.push(startProcess([path.join(ROOT, 'bench/lib/push-clients.mjs'), file], { ready: /ready (\d+)(.*)/, timeoutMs: 600_000, stdin: 'pipe' }));
  }
  const stop = () => Promise.all(procs.map((p) => p.stop()));
  try {
    const ready = await Promise.all(procs.map((p) => p.started));
    const connected = ready.reduce((n, m) => n + Number(m[1]), 0);
    if (connected !== clients.length)
      throw new Error(`connections ${kind}: only ${connected} of ${clients.length} connected${ready.map((m) => m[2]).join('')}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

/** Memory of one server process before and after `clients` connect. */
export async function measure(dir, kind, server, heap, base, clients) {
  let group;
  try {
    await settle(1000);
    const before = { rss: rssBytes(server.pid), heap: await heap(server) };
    group = await openClients(dir, kind, base, clients);
    await settle(1500);
    const after = { rss: rssBytes(server.pid), heap: await heap(server) };
    return { rssPerConn: (after.rss - before.rss) / clients.length, heapPerConn: (after.heap - before.heap) / clients.length };
  } finally {
    // Stop the server first: its side then holds the TIME_WAITs, and the clients' ports are free for the next round.
    // Killed, not stopped: a graceful close of 19,000 sockets took seconds and measures nothing.
    await server.kill();
    await group?.stop();
  }
}

export async function connectionsScenario({ quick, runs, log }) {
  // 19,000, not the issue's 20,000: a process here may hold at most 20,000 files (hard limit,
  // `ulimit -Hn`), and a server needs a few beside its sockets; the baseline has the same limit.
  const count = quick ? 500 : 19_000;
  const tmp = tempDir('connections');
  const samples = { socketio: [], centrifuge: [], bare: [], socketioHeap: [], centrifugeHeap: [], bareHeap: [], library: [], libraryHeap: [] };
  try {
    const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', 'store', '--json', '--data-dir', tmp.dir]);
    const seeder = await startOrdercast({ dataDir: tmp.dir });
    log(`connections: seeding ${count} orders, one user each`);
    const orderIds = await seedOrders(seeder.baseUrl, project.secretKey, count, (i) => ({ userExternalId: `user-${i}` }));
    await seeder.stop();
    const clients = await userClients(project, orderIds);
    for (let run = 1; run <= runs; run++) {
      // 'library' is socket.io alone (Socket.IO clients, no Ordercast code): it tells how
      // much of the Socket.IO gateway's figure is the library's own.
      // It is measured in the first run only: it explains a figure rather than being one.
      for (const kind of run === 1 ? ['socketio', 'centrifuge', 'bare', 'library'] : ['socketio', 'centrifuge', 'bare']) {
        const reference = { bare: 'bare-ws-server.mjs', library: 'bare-socketio-server.mjs' }[kind];
        const server = reference ? await startBaseline(reference) : await startOrdercast({ dataDir: tmp.dir, env: { ORDERCAST_WS_HANDSHAKE_RATE: '0' } });
        const base = reference ? { url: server.baseUrl } : { url: server.baseUrl, secretKey: project.secretKey, projectId: project.id };
        const result = await measure(tmp.dir, kind === 'library' ? 'socketio' : kind, server, reference ? baselineHeap : ordercastHeap, base, clients);
        samples[kind].push(result.rssPerConn / 1024);
        samples[`${kind}Heap`].push(result.heapPerConn / 1024);
        log(
          `connections ${kind} run ${run}/${runs}: ${(result.rssPerConn / 1024).toFixed(1)} KiB RSS, ${(result.heapPerConn / 1024).toFixed(1)} KiB heap per connection`,
        );
      }
    }
  } finally {
    tmp.remove();
  }
  const bare = summarize(samples.bare);
  return ['socketio', 'centrifuge'].map((kind) => {
    const o = summarize(samples[kind]);
    const ratio = o.median / bare.median;
    const limit = kind === 'centrifuge' ? 10 : Infinity;
    return {
      scenario: `connections ${kind === 'socketio' ? 'Socket.IO' : 'Centrifuge'} (KiB RSS per idle connection)`,
      ordercast: o,
      baseline: bare,
      ratio,
      target: `≤ 2× baseline${kind === 'centrifuge' ? '; ≤ 10 KB' : ''}`,
      // 500 connections are too few to see past the garbage collector: a quick run only checks that it works.
      meets: quick ? 'smoke' : ratio <= 2 && o.median <= limit,
      notes:
        `${count} connections; heap per connection ${summarize(samples[`${kind}Heap`]).median.toFixed(1)} KiB vs ${summarize(samples.bareHeap).median.toFixed(1)} KiB` +
        (kind === 'socketio'
          ? `; socket.io alone (no Ordercast code): ${summarize(samples.library).median.toFixed(1)} KiB RSS, ${summarize(samples.libraryHeap).median.toFixed(1)} KiB heap`
          : ''),
    };
  });
}
