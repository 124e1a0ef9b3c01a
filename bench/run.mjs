#!/usr/bin/env node
// npm run bench [-- <scenario>…] [--quick] [--runs N]
// Runs each scenario beside its baseline, prints one table and writes bench/results/latest.json;
// a full run (every scenario, not --quick) also writes bench/results/<date>.json, to commit.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/processes.mjs';
import { connectionsScenario } from './scenarios/connections.mjs';
import { fanoutScenario } from './scenarios/fanout.mjs';
import { idleNodesScenario } from './scenarios/idle-nodes.mjs';
import { ingestScenario } from './scenarios/ingest.mjs';
import { nodesScenario } from './scenarios/nodes.mjs';
import { pollScenario } from './scenarios/poll.mjs';
import { pushScenario } from './scenarios/push.mjs';
import { scaleScenario } from './scenarios/scale.mjs';
import { timingScenario } from './scenarios/timing.mjs';
import { tracingScenario } from './scenarios/tracing.mjs';
import { webhookTenantsScenario } from './scenarios/webhook-tenants.mjs';
import { webhooksScenario } from './scenarios/webhooks.mjs';

const SCENARIOS = {
  poll: pollScenario,
  ingest: ingestScenario,
  push: pushScenario,
  connections: connectionsScenario,
  fanout: fanoutScenario,
  webhooks: webhooksScenario,
  'webhook-tenants': webhookTenantsScenario,
  nodes: nodesScenario,
  'idle-nodes': idleNodesScenario,
  scale: scaleScenario,
  tracing: tracingScenario,
  timing: timingScenario,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runsIndex = args.indexOf('--runs');
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : quick ? 1 : 3;
const chosen = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');
const unknown = chosen.filter((name) => !SCENARIOS[name]);
if (unknown.length > 0 || !Number.isInteger(runs) || runs < 1) {
  console.error(`usage: npm run bench [-- ${Object.keys(SCENARIOS).join('|')} …] [--quick] [--runs N]`);
  if (unknown.length > 0) console.error(`unknown scenario: ${unknown.join(', ')}`);
  process.exit(2);
}
const names = chosen.length > 0 ? chosen : Object.keys(SCENARIOS);
const log = (line) => console.log(`[bench] ${line}`);

const rows = [];
const started = Date.now();
for (const name of names) {
  log(`${name}: starting (${quick ? 'quick' : 'full'}, ${runs} run${runs > 1 ? 's' : ''})`);
  const scenarioStarted = Date.now();
  rows.push(...(await SCENARIOS[name]({ quick, runs, log })));
  log(`${name}: done in ${Math.round((Date.now() - scenarioStarted) / 1000)} s`);
}

const num = (v) => (Math.abs(v) < 100 ? v.toFixed(1) : String(Math.round(v)));
const fmt = (s) => (s.runs > 1 ? `${num(s.median)} (${num(s.min)}–${num(s.max)})` : num(s.median));
const table = [
  ['scenario', 'ordercast median (min–max)', 'baseline median (min–max)', 'ratio', 'target', 'meets'],
  ...rows.map((r) => [
    r.scenario,
    fmt(r.ordercast),
    fmt(r.baseline),
    `${r.ratio.toFixed(2)}×`,
    r.target,
    r.meets === 'smoke' ? 'smoke only' : r.meets ? 'yes' : 'NO',
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
console.log('');
for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
for (const r of rows) console.log(`  ${r.scenario}: ${r.notes}`);

const resultsDir = path.join(ROOT, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() };
const report = { date: new Date().toISOString(), quick, runs, node: process.version, machine, seconds: Math.round((Date.now() - started) / 1000), rows };
const written = ['latest.json'];
if (!quick && chosen.length === 0) written.push(`${report.date.slice(0, 10)}.json`);
for (const file of written) writeFileSync(path.join(resultsDir, file), `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${written.map((file) => `bench/results/${file}`).join(' and ')} (${report.seconds} s)`);
