import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess as startServer } from './server-process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const CLI = path.join(root, 'packages/server/bin/ordercast.js');

function assertBuilt(): void {
  if (!existsSync(path.join(root, 'packages/server/dist/cli/main.js'))) {
    throw new Error('these tests run the built CLI: run `npm run build` (or `npm test`, which builds) first');
  }
}

/** Runs one `ordercast …` command to completion; resolves to its stdout. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`ordercast ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

export interface ServerProcess {
  url: string;
  /** Its Prometheus `/metrics` (a port of its own). */
  metricsUrl: string;
  child: ChildProcess;
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `ordercast serve --port 0` in its own process; resolves once it logs its URL. */
export async function startServerProcess(options: { dataDir: string; databaseUrl?: string; env?: Record<string, string> }): Promise<ServerProcess> {
  assertBuilt();
  const args = ['--no-demo', '--data-dir', options.dataDir, ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : [])];
  const server = await startServer(args, { ORDERCAST_RATE_LIMIT: '0', ...options.env });
  return {
    url: server.baseUrl,
    metricsUrl: server.metricsUrl ?? '',
    child: server.child,
    output: server.output,
    exited: server.exited,
    kill: async (signal = 'SIGTERM') => {
      await server.stop(signal);
    },
  };
}

/** Sends a JSON request to a server process. */
export async function call(baseUrl: string, key: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Every delivery of a project, following cursors. */
export async function allDeliveries(baseUrl: string, key: string, query = ''): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: any } = await call(
      baseUrl,
      key,
      'GET',
      `/api/v2/webhook-deliveries?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    if (page.status !== 200) throw new Error(`deliveries: ${page.status} ${JSON.stringify(page.body)}`);
    out.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}
