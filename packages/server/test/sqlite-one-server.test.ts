import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrlForTests } from './helpers/processes.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';

/**
 * One server per SQLite data directory: a second `serve` on it is refused with a clear
 * message and exit code 3, while one-off CLI commands keep sharing the file with the
 * running server. The lock dies with its process, even by SIGKILL. Servers that share
 * events through Redis may serve one file together, but never beside one without Redis.
 */
describe('one server per SQLite data directory', () => {
  let dataDir: string;
  let first: ServerProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-one-server-'));
    first = await startServerProcess(['--no-demo', '--data-dir', dataDir]);
  });
  afterAll(async () => {
    await first?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second server on the same directory with a clear error and exit code 3, and the first keeps serving', async () => {
    const second = runCli(['serve', '--no-demo', '--port', '0', '--metrics-port', 'off', '--data-dir', dataDir], { ORDERCAST_LOG_FORMAT: 'json' });
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`Another Ordercast server is already serving the SQLite database ${path.join(dataDir, 'ordercast.db')}`);
    expect(second.stderr).toContain('Servers share one SQLite file only when each of them shares events through Redis');
    expect(second.stdout).not.toContain('listening');
    expect((await fetch(`${first.baseUrl}/readyz`)).status).toBe(200);
  });

  it('lets one-off CLI commands share the file with the running server', async () => {
    const created = runCli(['projects', 'create', '--name', 'Beside the server', '--lifecycle', 'store', '--data-dir', dataDir, '--json']);
    expect(created.code).toBe(0);
    const project = JSON.parse(created.stdout);
    const read = await fetch(`${first.baseUrl}/api/v2/project`, { headers: { authorization: `Bearer ${project.secretKey}` } });
    expect(read.status).toBe(200);
  });

  it('frees the directory when the server is killed with SIGKILL: the next one starts', async () => {
    expect(await first.stop('SIGKILL')).toBe(null);
    first = await startServerProcess(['--no-demo', '--data-dir', dataDir]);
    expect((await fetch(`${first.baseUrl}/readyz`)).status).toBe(200);
  });

  it('frees it on a clean stop too', async () => {
    expect(await first.stop('SIGTERM')).toBe(0);
    first = await startServerProcess(['--no-demo', '--data-dir', dataDir]);
    expect((await fetch(`${first.baseUrl}/readyz`)).status).toBe(200);
  });
});

describe.skipIf(!redisUrlForTests())('SQLite servers joined by Redis', () => {
  let dataDir: string;
  const servers: ServerProcess[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-redis-sqlite-'));
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serve one file together, and a server without Redis is refused beside them', async () => {
    const withRedis = ['--no-demo', '--data-dir', dataDir, '--redis-url', redisUrlForTests()!];
    servers.push(await startServerProcess(withRedis));
    servers.push(await startServerProcess(withRedis));
    for (const server of servers) expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    const alone = runCli(['serve', '--no-demo', '--port', '0', '--metrics-port', 'off', '--data-dir', dataDir], { ORDERCAST_LOG_FORMAT: 'json' });
    expect(alone.code).toBe(3);
    expect(alone.stderr).toContain('Another Ordercast server is already serving the SQLite database');
  });

  it('is refused beside a server without Redis', async () => {
    for (const server of servers.splice(0)) await server.stop();
    servers.push(await startServerProcess(['--no-demo', '--data-dir', dataDir]));
    const joining = runCli(['serve', '--no-demo', '--port', '0', '--metrics-port', 'off', '--data-dir', dataDir, '--redis-url', redisUrlForTests()!], {
      ORDERCAST_LOG_FORMAT: 'json',
    });
    expect(joining.code).toBe(3);
    expect(joining.stderr).toContain('Another Ordercast server is already serving the SQLite database');
  });
});
