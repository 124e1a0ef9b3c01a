// Starting and stopping the processes a scenario measures: each server runs in
// its own process, and so does the load generator.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'packages/server/bin/ordercast.js');

export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ordercast-bench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Spawns a node process and resolves once a line of its output matches `ready`. */
export function startProcess(args, { env = {}, ready, timeoutMs = 30_000, stdin = 'ignore' } = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: [stdin, 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not become ready:\n${output.slice(-2000)}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
  return {
    child,
    started,
    output: () => output,
    /** Ends the process at once (SIGKILL), for measurements that need no graceful shutdown. */
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * With ORDERCAST_BENCH_PROFILE=<dir>, every Ordercast server a scenario starts writes
 * a V8 CPU profile there when it stops (open it in Chrome DevTools or speedscope).
 */
function profileArgs() {
  const dir = process.env.ORDERCAST_BENCH_PROFILE;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(dir)] : [];
}

/** Node flags for Ordercast's servers only, not the baselines: to try a V8 setting on one side. */
function serverNodeArgs() {
  return (process.env.ORDERCAST_BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/** `ordercast serve` in its own process; resolves to { baseUrl, metricsUrl, stop }. */
export async function startOrdercast({ dataDir, databaseUrl, env = {}, inspect = false }) {
  // Metrics on a free loopback port of their own: several servers may run at once.
  const args = [
    ...profileArgs(),
    ...serverNodeArgs(),
    ...(inspect ? ['--inspect=127.0.0.1:0'] : []),
    CLI,
    'serve',
    '--port',
    '0',
    '--metrics-port',
    '0',
    '--no-demo',
    '--data-dir',
    dataDir,
  ];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  const proc = startProcess(args, {
    // The server unbounded, as a single tenant would run it: no rate limit, and per-project quotas at their largest (still checked on every write and connection).
    env: {
      ORDERCAST_LOG_FORMAT: 'json',
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_QUOTA_WRITES_PER_SECOND: '1000000',
      ORDERCAST_QUOTA_OPEN_CONNECTIONS: '1000000',
      ORDERCAST_LOG_LEVEL: 'info',
      ...env,
    },
    ready: /"url":"(http:\/\/[^"]+)"/,
  });
  const match = await proc.started;
  const metricsUrl = /"metricsUrl":"(http:\/\/[^"]+)"/.exec(proc.output())?.[1];
  // With `inspect`, the inspector's address (bench/lib/collect-garbage.mjs).
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(proc.output())?.[1];
  return { baseUrl: match[1], metricsUrl, inspectorUrl, stop: proc.stop, kill: proc.kill, pid: proc.child.pid };
}

/** A baseline server script from bench/baselines; it prints `listening <url>`. */
export async function startBaseline(script, env = {}) {
  const proc = startProcess([...profileArgs(), path.join(ROOT, 'bench/baselines', script)], { env, ready: /listening (http:\/\/\S+)/ });
  const match = await proc.started;
  const metricsUrl = /"metricsUrl":"(http:\/\/[^"]+)"/.exec(proc.output())?.[1];
  return { baseUrl: match[1], metricsUrl, stop: proc.stop, kill: proc.kill, pid: proc.child.pid };
}

/** Runs `ordercast <args>` to completion and parses its JSON output. */
export async function cliJson(args) {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (err += c));
  const code = await new Promise((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`ordercast ${args.join(' ')} failed: ${err}`);
  return JSON.parse(out);
}
