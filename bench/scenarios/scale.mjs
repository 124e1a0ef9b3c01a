// scale: how cost grows with data. Each figure is measured on a big database and on a
// small one in the same run, and the row is their ratio:
//  - poll (from the read cache, and with it off) and ingest with 1,000,000 orders and
//    5,000,000 events in the database, against 10,000 orders and 50,000 events;
//  - the webhook drain with 1,000,000 delivered deliveries in the table, against none;
//  - memory per idle Socket.IO connection at 19,000 connections, against 1,000.
// The big databases are seeded directly (bench/lib/bulk-seed.mjs), not through the API.
import { cpSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cloneDeliveredDeliveries, cloneOrders } from '../lib/bulk-seed.mjs';
import { cpuSeconds } from '../lib/cpu.mjs';
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { ROOT, cliJson, startOrdercast, startProcess, tempDir } from '../lib/processes.mjs';
import { runLoad } from '../lib/run-load.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';
import { userClients } from '../lib/user-clients.mjs';
import { measure, ordercastHeap } from './connections.mjs';
import { waitForUnique } from './webhooks.mjs';

const EVENTS_PER_ORDER = 5;
const dbFile = (dir) => path.join(dir, 'ordercast.db');

async function api(baseUrl, key, method, urlPath, body) {
  const res = await fetch(`${baseUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`scale: ${method} ${urlPath} answered ${res.status} ${text}`);
  return JSON.parse(text);
}

/** A database holding `orders` orders with EVENTS_PER_ORDER events each: one written through the API, the rest copies of it. */
async function ordersDatabase(orders, log) {
  const tmp = tempDir(`scale-${orders}`);
  const project = await createPingPongProject(tmp.dir);
  const server = await startOrdercast({ dataDir: tmp.dir });
  try {
    const template = await api(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', {
      userExternalId: 'template-user',
      amount: '25.00',
      currency: 'EUR',
    });
    for (let v = 1; v < EVENTS_PER_ORDER; v++)
      await api(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${template.id}/status`, { status: v % 2 ? 'pong' : 'ping' });
    await server.stop();
    cloneOrders(dbFile(tmp.dir), template.id, orders - 1, (line) => log(`scale: ${line}`));
    return {
      tmp,
      project,
      ids: (n) =>
        Array.from(
          { length: n },
          (_, k) =>
            `ord_bulk${Math.floor((k * (orders - 1)) / n)
              .toString(36)
              .padStart(8, '0')}`,
        ),
    };
  } catch (error) {
    await server.stop();
    tmp.remove();
    throw error;
  }
}

async function pollAndIngest({ quick, runs, log }, sizes) {
  const pollOrders = quick ? 1000 : 10_000;
  const durationSec = quick ? 2 : 4;
  const connections = 50;
  const samples = {};
  const push = (key, value) => (samples[key] ??= []).push(value);
  const dbs = {};
  try {
    for (const [label, orders] of Object.entries(sizes)) {
      log(`scale: building the ${label} database (${orders.toLocaleString('en')} orders, ${(orders * EVENTS_PER_ORDER).toLocaleString('en')} events)`);
      dbs[label] = await ordersDatabase(orders, log);
    }
    for (const cache of ['on', 'off']) {
      // Both servers up at once and measured in turn, small then big in each round, so that
      // a machine that slows down or speeds up during the scenario weighs on both sides alike.
      const servers = {};
      try {
        for (const [label, db] of Object.entries(dbs)) {
          const server = await startOrdercast({ dataDir: db.tmp.dir, env: cache === 'off' ? { ORDERCAST_ORDER_CACHE_MB: '0' } : {} });
          servers[label] = {
            server,
            headers: { authorization: `Bearer ${db.project.secretKey}` },
            paths: db.ids(pollOrders).map((id) => `/api/v2/orders/${id}`),
          };
          // Unmeasured: a fresh server compiles its hot paths first, and the first pass reads every
          // polled order from a cold file (into the read cache, and the OS's page cache).
          await runLoad({ url: server.baseUrl, connections, durationSec, headers: servers[label].headers, paths: servers[label].paths });
        }
        for (let run = 1; run <= runs; run++) {
          for (const [label, { server, headers, paths }] of Object.entries(servers)) {
            const cpuBefore = cpuSeconds(server.pid);
            const poll = await runLoad({ url: server.baseUrl, connections, durationSec, headers, paths });
            const cpuPerPoll = ((cpuSeconds(server.pid) - cpuBefore) * 1e6) / poll.total;
            if (Object.keys(poll.statusCodes).some((code) => code !== '200') || poll.errors > 0)
              throw new Error(`scale poll: ${JSON.stringify(poll.statusCodes)}`);
            push(`poll-${cache}-${label}`, poll.requestsPerSec);
            push(`poll-cpu-${cache}-${label}`, cpuPerPoll);
            if (cache === 'off') {
              log(`scale ${label} run ${run}/${runs}, cache off: poll ${Math.round(poll.requestsPerSec)} req/s (${cpuPerPoll.toFixed(0)} µs server CPU each)`);
              continue;
            }
            const fresh = await seedOrders(server.baseUrl, dbs[label].project.secretKey, quick ? 500 : 2000, (i) => ({
              userExternalId: `ingest-${run}-${i % 200}`,
            }));
            const ingest = await runLoad({
              kind: 'toggle',
              url: server.baseUrl,
              connections,
              durationSec,
              headers,
              statuses: ['ping', 'pong'],
              orders: fresh.map((id) => ({ id, status: 'ping' })),
            });
            if (Object.keys(ingest.statusCodes).some((code) => code !== '200') || ingest.errors > 0)
              throw new Error(`scale ingest: ${JSON.stringify(ingest.statusCodes)}`);
            push(`ingest-${label}`, ingest.requestsPerSec);
            log(
              `scale ${label} run ${run}/${runs}: poll ${Math.round(poll.requestsPerSec)} req/s (${cpuPerPoll.toFixed(0)} µs server CPU each), ingest ${Math.round(ingest.requestsPerSec)} transitions/s`,
            );
          }
        }
      } finally {
        for (const { server } of Object.values(servers)) await server.stop();
      }
    }
  } finally {
    for (const db of Object.values(dbs)) db.tmp.remove();
  }
  return samples;
}

async function webhookDrain({ quick, runs, log }, oldDeliveries) {
  const backlog = quick ? 1000 : 10_000;
  const receiverProc = startProcess([path.join(ROOT, 'bench/lib/webhook-receiver.mjs')], { ready: /listening (http:\/\/\S+)/ });
  const receiver = (await receiverProc.started)[1];
  const env = { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_CONCURRENCY: '32' };
  const seeds = { fresh: tempDir('scale-webhooks-fresh'), old: tempDir('scale-webhooks-old') };
  const samples = { fresh: [], old: [] };
  try {
    const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', 'onramp', '--json', '--data-dir', seeds.fresh.dir]);
    const writer = await startOrdercast({ dataDir: seeds.fresh.dir, env: { ...env, ORDERCAST_WEBHOOK_DISPATCH: 'false' } });
    try {
      await api(writer.baseUrl, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url: `${receiver}/hook` });
      log(`scale: writing a webhook backlog of ${backlog} events`);
      await seedOrders(writer.baseUrl, project.secretKey, backlog, () => ({ amount: '25.00', currency: 'EUR', status: 'PROCESSING' }));
    } finally {
      await writer.stop();
    }
    cpSync(seeds.fresh.dir, seeds.old.dir, { recursive: true });
    const template = new Database(dbFile(seeds.old.dir), { readonly: true }).prepare('select id from webhook_deliveries limit 1').get().id;
    cloneDeliveredDeliveries(dbFile(seeds.old.dir), template, oldDeliveries, 30, (line) => log(`scale: ${line}`));
    for (let run = 1; run <= runs; run++) {
      for (const kind of ['fresh', 'old']) {
        const tmp = tempDir(`scale-webhooks-${kind}-run`);
        cpSync(seeds[kind].dir, tmp.dir, { recursive: true });
        await fetch(`${receiver}/reset`, { method: 'POST' });
        const t0 = performance.timeOrigin + performance.now();
        const server = await startOrdercast({ dataDir: tmp.dir, env });
        try {
          const drained = await waitForUnique(receiver, backlog, 600_000);
          samples[kind].push(backlog / ((drained.lastAt - t0) / 1000));
        } finally {
          await server.stop();
          tmp.remove();
        }
      }
      log(
        `scale webhooks run ${run}/${runs}: ${Math.round(samples.old.at(-1))} deliveries/s beside ${oldDeliveries.toLocaleString('en')} old ones, ${Math.round(samples.fresh.at(-1))} on a fresh table`,
      );
    }
  } finally {
    await receiverProc.stop();
    seeds.fresh.remove();
    seeds.old.remove();
  }
  return samples;
}

async function connectionMemory({ runs, log }, counts) {
  const tmp = tempDir('scale-connections');
  const samples = Object.fromEntries(
    counts.flatMap((n) => [
      [n, []],
      [`rss-${n}`, []],
    ]),
  );
  try {
    const project = await cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', 'store', '--json', '--data-dir', tmp.dir]);
    const seeder = await startOrdercast({ dataDir: tmp.dir });
    const most = Math.max(...counts);
    log(`scale: seeding ${most} orders for the connection counts`);
    const orderIds = await seedOrders(seeder.baseUrl, project.secretKey, most, (i) => ({ userExternalId: `user-${i}` }));
    await seeder.stop();
    const clients = await userClients(project, orderIds);
    for (let run = 1; run <= runs; run++) {
      for (const n of counts) {
        // With its inspector, so that each heap reading follows a full collection: at 1,000
        // connections the garbage of the handshakes would otherwise weigh as much as they do.
        const server = await startOrdercast({ dataDir: tmp.dir, env: { ORDERCAST_WS_HANDSHAKE_RATE: '0' }, inspect: true });
        const result = await measure(
          tmp.dir,
          'socketio',
          server,
          ordercastHeap,
          { url: server.baseUrl, secretKey: project.secretKey, projectId: project.id },
          clients.slice(0, n),
        );
        samples[n].push(result.heapPerConn / 1024);
        samples[`rss-${n}`].push(result.rssPerConn / 1024);
        log(
          `scale connections run ${run}/${runs}: ${(result.heapPerConn / 1024).toFixed(1)} KiB heap, ${(result.rssPerConn / 1024).toFixed(1)} KiB RSS per connection at ${n}`,
        );
      }
    }
  } finally {
    tmp.remove();
  }
  return samples;
}

/** Median server CPU per poll on the big and the small database. */
function cpuNote(data, cache) {
  const median = (label) => summarize(data[`poll-cpu-${cache}-${label}`]).median.toFixed(0);
  return `${median('big')} vs ${median('small')} µs`;
}

export async function scaleScenario(options) {
  const { quick } = options;
  const sizes = quick ? { small: 2000, big: 20_000 } : { small: 10_000, big: 1_000_000 };
  const oldDeliveries = quick ? 20_000 : 1_000_000;
  const counts = quick ? [200, 1000] : [1000, 19_000];
  const data = await pollAndIngest(options, sizes);
  const drain = await webhookDrain(options, oldDeliveries);
  const memory = await connectionMemory(options, counts);
  const big = sizes.big.toLocaleString('en');
  const small = sizes.small.toLocaleString('en');
  const higherIsBetter = (scenario, ours, base, target, notes) => {
    const o = summarize(ours);
    const b = summarize(base);
    const ratio = o.median / b.median;
    return { scenario, ordercast: o, baseline: b, ratio, target: `≥ ${target}× the small one`, meets: quick ? 'smoke' : ratio >= target, notes };
  };
  const perConnection = (() => {
    const o = summarize(memory[counts[1]]);
    const b = summarize(memory[counts[0]]);
    const ratio = o.median / b.median;
    const apart = Math.max(ratio, 1 / ratio);
    return {
      scenario: `scale: KiB of heap per idle Socket.IO connection, ${counts[1]} vs ${counts[0]}`,
      ordercast: o,
      baseline: b,
      ratio,
      target: '≤ 1.2× apart',
      meets: quick ? 'smoke' : apart <= 1.2,
      notes: `V8 heap growth per connection at each count, each on a fresh server; RSS growth ${summarize(memory[`rss-${counts[1]}`]).median.toFixed(1)} vs ${summarize(memory[`rss-${counts[0]}`]).median.toFixed(1)} KiB (at the smaller count the heap grows inside pages the process already holds, so RSS undercounts it)`,
    };
  })();
  return [
    higherIsBetter(
      `scale: poll req/s, ${big} orders vs ${small}`,
      data['poll-on-big'],
      data['poll-on-small'],
      0.8,
      `${quick ? '1,000' : '10,000'} orders polled in turn, spread over the whole table; from the read cache; server CPU per poll ${cpuNote(data, 'on')}`,
    ),
    higherIsBetter(
      `scale: poll req/s, cache off, ${big} vs ${small}`,
      data['poll-off-big'],
      data['poll-off-small'],
      0.8,
      `the same with ORDERCAST_ORDER_CACHE_MB=0: every poll reads SQLite; server CPU per poll ${cpuNote(data, 'off')}`,
    ),
    higherIsBetter(
      `scale: ingest transitions/s, ${big} orders vs ${small}`,
      data['ingest-big'],
      data['ingest-small'],
      0.8,
      `${(sizes.big * EVENTS_PER_ORDER).toLocaleString('en')} vs ${(sizes.small * EVENTS_PER_ORDER).toLocaleString('en')} events in the log; fresh orders each run`,
    ),
    higherIsBetter(
      `scale: webhook drain/s, ${oldDeliveries.toLocaleString('en')} old deliveries vs none`,
      drain.old,
      drain.fresh,
      0.8,
      `the same backlog drained beside a table of delivered deliveries 30 days old`,
    ),
    perConnection,
  ];
}
