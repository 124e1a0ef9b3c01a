import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServerProcess } from './server-process.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const bin = path.join(repoRoot, 'packages/server/bin/ordercast.js');

/** Subprocess tests run the built CLI: bring dist/ up to date first (incremental, a few seconds). */
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
