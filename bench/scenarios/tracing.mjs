// tracing: what tracing costs on the write path. The clean ingest load (POST
// /orders/{id}/status, ping ⇄ pong) against two Ordercast servers on SQLite, one without
// OTEL_* (tracing off: the SDK is never loaded) and one exporting every span (sampler
// always_on) over OTLP/protobuf to a local sink that answers 200, taken in turn in each run.
// The spans per write: the request, the append, the follower's read and the hub's push.
import http from 'node:http';
import { cpuSeconds } from '../lib/cpu.mjs';
import { createPingPongProject } from '../lib/ping-pong-project.mjs';
import { startOrdercast, tempDir } from '../lib/processes.mjs';
import { runLoad } from '../lib/run-load.mjs';
import { seedOrders } from '../lib/seed.mjs';
import { summarize } from '../lib/stats.mjs';

/** An OTLP/HTTP endpoint that takes every export and counts the bytes: the cheapest collector there is. */
async function startSink() {
  let exports = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    stats: () => ({ exports, bytes }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function spansExported(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  const read = (pattern) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    exported: read(/^ordercast_trace_spans_exported_total (\d+)/m),
    dropped:
      read(/^ordercast_trace_spans_dropped_total\{reason="queue_full"\} (\d+)/m) +
      read(/^ordercast_trace_spans_dropped_total\{reason="export_failed"\} (\d+)/m),
  };
}

export async function tracingScenario({ quick, runs, log }) {
  const durationSec = quick ? 2 : 4;
  const connections = 50;
  const orderCount = quick ? 500 : 5000;
  const sink = await startSink();
  const offDir = tempDir('tracing-off');
  const onDir = tempDir('tracing-on');
  const offProject = await createPingPongProject(offDir.dir);
  const onProject = await createPingPongProject(onDir.dir);
  const off = await startOrdercast({ dataDir: offDir.dir });
  const on = await startOrdercast({
    dataDir: onDir.dir,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_TRACES_SAMPLER: 'always_on' },
  });
  try {
    const servers = [
      ['off', off, offProject],
      ['on', on, onProject],
    ];
    const load = async ([name, server, project], seconds) => {
      const ids = await seedOrders(server.baseUrl, project.secretKey, orderCount);
      const cpuBefore = cpuSeconds(server.pid);
      const r = await runLoad({
        kind: 'toggle',
        connections,
        durationSec: seconds,
        headers: { authorization: `Bearer ${project.secretKey}` },
        statuses: ['ping', 'pong'],
        orders: ids.map((id) => ({ id, status: 'ping' })),
        url: server.baseUrl,
      });
      if (Object.keys(r.statusCodes).some((code) => code !== '200') || r.errors > 0) {
        throw new Error(`tracing ${name}: unexpected answers ${JSON.stringify(r.statusCodes)}, errors ${r.errors}; first: ${r.firstFailure}`);
      }
      // CPU per transition: steadier than throughput on a shared machine, and what tracing adds.
      return { perSec: r.requestsPerSec, cpuMsPerRequest: ((cpuSeconds(server.pid) - cpuBefore) * 1000) / Math.max(1, r.total) };
    };
    // An unmeasured pass on each first: a fresh server compiles its hot paths (and the traced
    // one loads the SDK's) in its first seconds.
    for (const server of servers) await load(server, durationSec / 2);
    const offRates = [];
    const onRates = [];
    const offCpu = [];
    const onCpu = [];
    for (let run = 1; run <= runs; run++) {
      const results = {};
      // Each goes first in turn, so neither always runs on a machine the other has just warmed or loaded.
      for (const server of run % 2 === 1 ? servers : [...servers].reverse()) results[server[0]] = await load(server, durationSec);
      offRates.push(results.off.perSec);
      onRates.push(results.on.perSec);
      offCpu.push(results.off.cpuMsPerRequest);
      onCpu.push(results.on.cpuMsPerRequest);
      log(
        `tracing run ${run}/${runs}: ${Math.round(results.on.perSec)} transitions/s traced vs ${Math.round(results.off.perSec)} untraced; CPU ${results.on.cpuMsPerRequest.toFixed(3)} vs ${results.off.cpuMsPerRequest.toFixed(3)} ms per transition`,
      );
    }
    const spans = await spansExported(on.metricsUrl);
    const onS = summarize(onRates);
    const offS = summarize(offRates);
    const ratio = onS.median / offS.median;
    return [
      {
        scenario: 'ingest sqlite, tracing on (100% sampled) vs off (transitions/s)',
        ordercast: onS,
        baseline: offS,
        ratio,
        target: '≥ 0.9× (costs ≤ 10%)',
        meets: ratio >= 0.9,
        notes: `baseline column: the same server without OTEL_* in the same run; server CPU ${summarize(onCpu).median.toFixed(3)} vs ${summarize(offCpu).median.toFixed(3)} ms per transition; ${connections} connections, ${durationSec} s; ${spans.exported} spans exported in ${sink.stats().exports} OTLP/protobuf requests (${Math.round(sink.stats().bytes / 1024)} KiB), ${spans.dropped} dropped`,
      },
    ];
  } finally {
    await off.stop();
    await on.stop();
    await sink.close();
    offDir.remove();
    onDir.remove();
  }
}
