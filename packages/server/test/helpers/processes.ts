import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startServerProcess } from './server-process.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const bin = path.join(repoRoot, 'packages/server/bin/ordercast.js');

/** Subprocess tests run the built CLI: the global setup brings dist/ up to date once a run (incremental, a few seconds). */
export function buildServer(): void {
  execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'packages/server'], { cwd: repoRoot, stdio: 'inherit' });
}

export function redisUrlForTests(): string | undefined {
  return process.env.ORDERCAST_TEST_REDIS_URL || undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `ordercast serve` in its own process; resolves once its "listening" log line names the URL. */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess(['--no-demo', ...args], { ORDERCAST_RATE_LIMIT: '0', ORDERCAST_WS_HANDSHAKE_RATE: '0', ...env });
  return {
    url: server.baseUrl,
    child: server.child,
    output: server.output,
    async stop() {
      await server.stop();
    },
  };
}

export type Cleanup = () => Promise<unknown> | unknown;

export interface ProcessTestFixtures {
  /** What a test started (processes, schemas, folders): undone after that test, newest first. */
  readonly cleanups: Cleanup[];
  /** The {@link LOOP} lifecycle as a file for `--lifecycle`, one for the whole block. */
  readonly lifecycleFile: string;
}

/**
 * The setup the process tests share, registered in the calling `describe` block: a
 * lifecycle file kept for the whole block, and cleanups run after each test.
 */
export function processTestFixtures(): ProcessTestFixtures {
  const cleanups: Cleanup[] = [];
  let lifecycleFile = '';
  beforeAll(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-lifecycle-'));
    lifecycleFile = path.join(dir, 'loop.json');
    writeFileSync(lifecycleFile, JSON.stringify(LOOP));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  });
  // The first cleanup is the lifecycle folder: it stays until the block is done.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(1).reverse()) await cleanup();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    cleanups,
    get lifecycleFile() {
      return lifecycleFile;
    },
  };
}

/** Runs one CLI command and parses its JSON output. */
export async function cli(args: string[]): Promise<any> {
  const { stdout } = await run(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, REDIS_URL: '', ORDERCAST_REDIS_URL: '' } });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

/** A lifecycle that can loop, so one order can take hundreds of transitions. */
export const LOOP = { name: 'loop', statuses: ['a', 'b', 'done'], initial: ['a'], final: ['done'], transitions: { a: ['b', 'done'], b: ['a', 'done'] } };

/** One REST call to a server process with a key; throws with the answer on anything but 2xx. */
export async function api(base: string, key: string, method: string, urlPath: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
