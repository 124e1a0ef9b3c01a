import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Centrifuge } from 'centrifuge';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { api, cli, freePort, processTestFixtures, redisUrlForTests, type ServerProcess, spawnServer } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';

/** Follows one order on both gateways of one server, recording what a user would see. */
class Watcher {
  readonly socketVersions: number[] = [];
  readonly centrifugeOffsets: number[] = [];
  readonly centrifugeVersions: number[] = [];
  socket!: Socket;
  client!: Centrifuge;

  async start(base: string, secretKey: string, projectId: string, orderId: string, user: string): Promise<void> {
    let lastVersion = 0;
    this.socket = io(`${base}/ws`, { auth: { apiKey: secretKey }, transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 300 });
    this.socket.on('order:update', (u) => {
      this.socketVersions.push(u.version);
      lastVersion = u.version;
    });
    const acked = new Promise<void>((resolve) => {
      this.socket.on('connect', () => {
        // On every (re)connect: resubscribe from the last version seen, so the log fills the gap.
        this.socket.emit('subscribe:order', { orderId, sinceVersion: lastVersion || undefined }, (ack: any) => {
          if (!lastVersion) lastVersion = ack.version;
          resolve();
        });
      });
    });
    const token = (await api(base, secretKey, 'POST', '/api/v2/tokens', { userExternalId: user })).token;
    this.client = new Centrifuge(`${base.replace(/^http/, 'ws')}/connection/websocket`, {
      data: { user_external_id: user, auth: token, project_id: projectId },
      websocket: WebSocket,
      minReconnectDelay: 100,
      maxReconnectDelay: 300,
    });
    this.client.on('publication', (ctx) => {
      this.centrifugeOffsets.push(ctx.offset as number);
      this.centrifugeVersions.push(ctx.data.version);
    });
    const subscribed = new Promise((resolve) => this.client.once('subscribed', resolve));
    this.client.connect();
    await Promise.all([acked, subscribed]);
  }

  async waitForVersion(version: number, ms = 20_000): Promise<void> {
    await waitFor(() => this.socketVersions.at(-1) === version && this.centrifugeVersions.at(-1) === version, `version ${version} on both gateways`, ms).catch(
      (e) => {
        throw new Error(`${e.message}: socket.io saw ${this.socketVersions.join(',')}; centrifuge saw ${this.centrifugeVersions.join(',')}`);
      },
    );
  }

  stop(): void {
    this.socket?.close();
    this.client?.disconnect();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('real-time across server processes', () => {
  const fixtures = processTestFixtures();
  const { cleanups } = fixtures;

  it('recovers on both gateways after a server restart on SQLite, including writes made by the CLI while it was down', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-restart-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const project = await cli(['projects', 'create', '--name', 'Restart', '--lifecycle', fixtures.lifecycleFile, '--json', '--data-dir', dataDir]);
    const port = await freePort();
    let server: ServerProcess = await spawnServer(['--port', String(port), '--data-dir', dataDir]);
    cleanups.push(() => server.stop());
    const order = await api(server.url, project.secretKey, 'POST', '/api/v2/orders', { userExternalId: 'u1' });
    const watcher = new Watcher();
    cleanups.push(() => watcher.stop());
    await watcher.start(server.url, project.secretKey, project.id, order.id, 'u1');

    await api(server.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'b' });
    await watcher.waitForVersion(2);
    // Another process (the CLI) writes to the same file: the server's log tail delivers it.
    await cli(['orders', 'transition', order.id, 'a', '--project', project.id, '--data-dir', dataDir, '--json']);
    await watcher.waitForVersion(3);

    await server.stop();
    for (const status of ['b', 'a', 'b']) await cli(['orders', 'transition', order.id, status, '--project', project.id, '--data-dir', dataDir, '--json']);
    server = await spawnServer(['--port', String(port), '--data-dir', dataDir]);
    await watcher.waitForVersion(6);
    await api(server.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'done' });
    await watcher.waitForVersion(7);

    expect(watcher.socketVersions).toEqual(range(2, 7));
    expect(watcher.centrifugeVersions).toEqual(range(2, 7));
    expect(watcher.centrifugeOffsets).toEqual(range(2, 7));
  });

  const redisUrl = redisUrlForTests();
  const pgUrl = databaseUrlForTests();

  it.skipIf(!redisUrl || !pgUrl)('two processes sharing PostgreSQL and Redis: changes made through B reach clients of A in order, without gaps', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-scale-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const project = await cli(['projects', 'create', '--name', 'Scale', '--lifecycle', fixtures.lifecycleFile, '--json', '--database-url', schema.url]);
    // The log tail is off: only Redis can carry B's events to A.
    const env = { ORDERCAST_EVENT_POLL_MS: '0' };
    const a = await spawnServer(['--port', '0', '--data-dir', dataDir, '--database-url', schema.url, '--redis-url', redisUrl!], env);
    cleanups.push(() => a.stop());
    const b = await spawnServer(['--port', '0', '--data-dir', dataDir, '--database-url', schema.url, '--redis-url', redisUrl!], env);
    cleanups.push(() => b.stop());
    const order = await api(b.url, project.secretKey, 'POST', '/api/v2/orders', { userExternalId: 'u1' });
    const watcher = new Watcher();
    cleanups.push(() => watcher.stop());
    await watcher.start(a.url, project.secretKey, project.id, order.id, 'u1');
    for (let i = 0; i < 300; i++) await api(b.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: i % 2 === 0 ? 'b' : 'a' });
    await watcher.waitForVersion(301);
    expect(watcher.socketVersions).toEqual(range(2, 301));
    expect(watcher.centrifugeOffsets).toEqual(range(2, 301));
  });

  const haveRedisServer = (() => {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!redisUrl || !haveRedisServer)('loses nothing when Redis goes away for a few seconds: clients catch up from the log', async () => {
    const redisPort = await freePort();
    const startRedis = () => execFileSync('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--daemonize', 'yes']);
    const stopRedis = () => {
      try {
        execFileSync('redis-cli', ['-p', String(redisPort), 'shutdown', 'nosave'], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    };
    startRedis();
    cleanups.push(stopRedis);
    const privateRedis = `redis://127.0.0.1:${redisPort}`;
    let dbArgs: string[];
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-outage-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    if (pgUrl) {
      const schema = await createPostgresSchema();
      cleanups.push(() => schema.drop());
      dbArgs = ['--data-dir', dataDir, '--database-url', schema.url];
    } else {
      dbArgs = ['--data-dir', dataDir]; // two processes on one SQLite file
    }
    const project = await cli(['projects', 'create', '--name', 'Outage', '--lifecycle', fixtures.lifecycleFile, '--json', ...dbArgs]);
    const a = await spawnServer(['--port', '0', ...dbArgs, '--redis-url', privateRedis]);
    cleanups.push(() => a.stop());
    const b = await spawnServer(['--port', '0', ...dbArgs, '--redis-url', privateRedis]);
    cleanups.push(() => b.stop());
    const order = await api(b.url, project.secretKey, 'POST', '/api/v2/orders', { userExternalId: 'u1' });
    const watcher = new Watcher();
    cleanups.push(() => watcher.stop());
    await watcher.start(a.url, project.secretKey, project.id, order.id, 'u1');
    let version = 1;
    const writeSome = async (n: number) => {
      for (let i = 0; i < n; i++, version++)
        await api(b.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: version % 2 === 1 ? 'b' : 'a' });
    };
    await writeSome(10);
    await watcher.waitForVersion(version);
    stopRedis();
    await writeSome(10);
    await watcher.waitForVersion(version);
    startRedis();
    // Both brokers back on Redis, so the next writes travel through it again.
    const redisOk = async (server: ServerProcess) => ((await (await fetch(`${server.url}/readyz`)).json()) as { redis?: string }).redis === 'ok';
    await waitFor(async () => (await redisOk(a)) && (await redisOk(b)), 'both servers back on Redis', 15_000);
    await writeSome(10);
    await watcher.waitForVersion(version);
    expect(version).toBe(31);
    expect(watcher.socketVersions).toEqual(range(2, 31));
    expect(watcher.centrifugeOffsets).toEqual(range(2, 31));
  });
});
