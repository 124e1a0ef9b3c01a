import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Centrifuge } from 'centrifuge';
import pg from 'pg';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { type Cleanup, cli, freePort, processTestFixtures, spawnServer } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';
import { allDeliveries, call, startServerProcess, type ServerProcess } from './helpers/webhook-server-process.js';
import { eventually, startReceiver } from './helpers/webhook-receiver.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function api(base: string, key: string, method: string, urlPath: string, body?: unknown): Promise<any> {
  const res = await call(base, key, method, urlPath, body);
  if (res.status >= 300) throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Follows one order over Socket.IO on `base`; resolves once subscribed, with the versions it receives. */
async function followOrder(base: string, key: string, orderId: string, cleanups: Cleanup[]): Promise<number[]> {
  const versions: number[] = [];
  const socket = io(`${base}/ws`, { auth: { apiKey: key }, transports: ['websocket'], reconnection: false, forceNew: true });
  cleanups.push(() => void socket.close());
  socket.on('order:update', (update) => versions.push(update.version));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('connect', () => socket.emit('subscribe:order', { orderId }, () => resolve()));
  });
  return versions;
}

const havePgBouncer = spawnSync('pgbouncer', ['--version'], { stdio: 'ignore' }).status === 0;
/** CI installs Debian's pgbouncer and sets this, so the PgBouncer test can never skip there. */
const pgBouncerRequired = process.env.ORDERCAST_TEST_PGBOUNCER === 'required';

describe.skipIf(!databaseUrlForTests())('several server processes on one PostgreSQL database, without Redis', () => {
  const fixtures = processTestFixtures();
  const { cleanups } = fixtures;

  it('every version written through node A reaches clients of node B, in order, woken by LISTEN/NOTIFY alone', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-nodes-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const project = await cli(['projects', 'create', '--name', 'Nodes', '--lifecycle', fixtures.lifecycleFile, '--json', '--database-url', schema.url]);
    // The log is never read on a timer: only NOTIFY can carry A's writes to B.
    const env = { ORDERCAST_EVENT_POLL_MS: '0', ORDERCAST_REDIS_URL: '', REDIS_URL: '' };
    const a = await spawnServer(['--port', '0', '--data-dir', dataDir, '--database-url', schema.url], env);
    cleanups.push(() => a.stop());
    const b = await spawnServer(['--port', '0', '--data-dir', dataDir, '--database-url', schema.url], env);
    cleanups.push(() => b.stop());
    const order = await api(a.url, project.secretKey, 'POST', '/api/v2/orders', { userExternalId: 'u1' });

    // A Socket.IO client following the order and a Centrifuge client on the user's channel, both on B.
    const socketVersions: number[] = [];
    const socket = io(`${b.url}/ws`, { auth: { apiKey: project.secretKey }, transports: ['websocket'], reconnection: false, forceNew: true });
    cleanups.push(() => void socket.close());
    socket.on('order:update', (update) => socketVersions.push(update.version));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect_error', reject);
      socket.once('connect', () => socket.emit('subscribe:order', { orderId: order.id }, () => resolve()));
    });
    const token = (await api(b.url, project.secretKey, 'POST', '/api/v2/tokens', { userExternalId: 'u1' })).token;
    const centrifugeVersions: number[] = [];
    const client = new Centrifuge(`${b.url.replace(/^http/, 'ws')}/connection/websocket`, {
      data: { user_external_id: 'u1', auth: token, project_id: project.id },
      websocket: WebSocket,
    });
    cleanups.push(() => client.disconnect());
    client.on('publication', (ctx) => centrifugeVersions.push(ctx.data.version));
    const subscribed = new Promise((resolve) => client.once('subscribed', resolve));
    client.connect();
    await subscribed;

    for (let i = 0; i < 200; i++) await api(a.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: i % 2 === 0 ? 'b' : 'a' });
    await waitFor(() => socketVersions.at(-1) === 201 && centrifugeVersions.at(-1) === 201, 'version 201 on node B', 20_000).catch((e) => {
      throw new Error(`${e.message}: socket.io saw ${socketVersions.join(',')}; centrifuge saw ${centrifugeVersions.join(',')}`);
    });
    expect(socketVersions).toEqual(range(2, 201));
    expect(centrifugeVersions).toEqual(range(2, 201));
  });

  it('three processes dispatching webhooks from the same outbox deliver each event to the endpoint exactly once', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dirs = [0, 1, 2].map(() => mkdtempSync(path.join(os.tmpdir(), 'ordercast-three-')));
    cleanups.push(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const project = await cli(['projects', 'create', '--name', 'Three', '--lifecycle', 'onramp', '--json', '--database-url', schema.url]);
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const servers: ServerProcess[] = [];
    for (const dir of dirs) {
      const server = await startServerProcess({
        dataDir: dir,
        databaseUrl: schema.url,
        env: {
          ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
          ORDERCAST_WEBHOOK_POLL_INTERVAL: '50ms',
          ORDERCAST_WEBHOOK_CONCURRENCY: '8',
          ORDERCAST_REDIS_URL: '',
          REDIS_URL: '',
        },
      });
      servers.push(server);
      cleanups.push(() => server.kill('SIGTERM'));
    }
    expect((await call(servers[0]!.url, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url: receiver.url })).status).toBe(201);

    // 60 orders x 4 events, each write through the next process in turn, 6 writers at once.
    let turn = 0;
    const via = () => servers[turn++ % servers.length]!.url;
    const writer = async (n: number) => {
      for (let i = n; i < 60; i += 6) {
        const created = await api(via(), project.secretKey, 'POST', '/api/v2/orders', { externalId: `o-${i}` });
        for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'])
          await api(via(), project.secretKey, 'POST', `/api/v2/orders/${created.id}/status`, { status });
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, n) => writer(n)));
    await receiver.waitForCount(240, 30_000);
    const deliveries = await eventually(
      async () => {
        const all = await allDeliveries(servers[0]!.url, project.secretKey);
        return all.length === 240 && all.every((d) => d.status === 'succeeded') ? all : undefined;
      },
      20_000,
      'all 240 deliveries to succeed',
    );
    // Give a late duplicate, if there were one, time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    expect(ids).toHaveLength(240);
    expect(new Set(ids).size).toBe(240);
    expect(new Set(deliveries.map((d) => d.id))).toEqual(new Set(ids));
    expect(deliveries.every((d) => d.attemptCount === 1)).toBe(true);
    const sent = await Promise.all(
      servers.map(async (s) =>
        Number(/ordercast_webhook_deliveries_total\{outcome="succeeded"\} (\d+)/.exec(await (await fetch(s.metricsUrl)).text())?.[1] ?? 0),
      ),
    );
    expect(sent.reduce((x, y) => x + y, 0)).toBe(240);
    console.log(`[three processes] 240 events delivered exactly once (sent per process: ${sent.join(', ')})`);
  }, 120_000);

  it.skipIf(!havePgBouncer && !pgBouncerRequired)(
    'behind PgBouncer in transaction mode, with LISTEN on a direct connection, node B still hears every write on A',
    async () => {
      if (!havePgBouncer) throw new Error('pgbouncer is not installed, and ORDERCAST_TEST_PGBOUNCER=required');
      // PgBouncer passes no `options`, so this test gets a database of its own rather than a schema.
      const direct = new URL(databaseUrlForTests()!);
      const database = `ordercast_pgb_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      const admin = new pg.Client({ connectionString: direct.toString() });
      await admin.connect();
      await admin.query(`create database ${database}`);
      cleanups.push(async () => {
        await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [database]);
        await admin.query(`drop database if exists ${database}`);
        await admin.end();
      });
      const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-pgbouncer-'));
      chmodSync(dir, 0o777);
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const port = await freePort();
      const ini = path.join(dir, 'pgbouncer.ini');
      writeFileSync(path.join(dir, 'userlist.txt'), `"${decodeURIComponent(direct.username || 'postgres')}" "${decodeURIComponent(direct.password)}"\n`);
      writeFileSync(
        ini,
        [
          '[databases]',
          `${database} = host=${direct.hostname} port=${direct.port || 5432} dbname=${database}`,
          '[pgbouncer]',
          'listen_addr = 127.0.0.1',
          `listen_port = ${port}`,
          'unix_socket_dir =',
          'auth_type = trust',
          `auth_file = ${path.join(dir, 'userlist.txt')}`,
          'pool_mode = transaction',
          'ignore_startup_parameters = extra_float_digits,options,statement_timeout',
        ].join('\n'),
      );
      // PgBouncer will not run as root: it drops to `nobody` when started as root.
      const bouncer = spawn('pgbouncer', [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), ini], { stdio: 'ignore' });
      cleanups.push(() => void bouncer.kill());
      const pooled = new URL(direct.toString());
      pooled.port = String(port);
      pooled.pathname = `/${database}`;
      const listen = new URL(direct.toString());
      listen.pathname = `/${database}`;
      await waitFor(async () => {
        const probe = new pg.Client({ connectionString: pooled.toString() });
        try {
          await probe.connect();
          await probe.query('select 1');
          return true;
        } catch {
          return false;
        } finally {
          await probe.end().catch(() => {});
        }
      }, 'PgBouncer to accept connections');

      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-pgb-nodes-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const env = { ORDERCAST_EVENT_POLL_MS: '0', ORDERCAST_REDIS_URL: '', REDIS_URL: '', ORDERCAST_DATABASE_PREPARED_STATEMENTS: 'false' };
      const args = ['--port', '0', '--data-dir', dataDir, '--database-url', pooled.toString(), '--database-listen-url', listen.toString()];
      const a = await spawnServer(args, env);
      cleanups.push(() => a.stop());
      const b = await spawnServer(args, env);
      cleanups.push(() => b.stop());
      expect(await (await fetch(`${b.url}/readyz`)).json()).toMatchObject({ status: 'ready', databaseListen: 'ok' });
      const project = await cli([
        'projects',
        'create',
        '--name',
        'Pooled',
        '--lifecycle',
        fixtures.lifecycleFile,
        '--json',
        '--database-url',
        listen.toString(),
      ]);
      const order = await api(a.url, project.secretKey, 'POST', '/api/v2/orders', {});
      const versions = await followOrder(b.url, project.secretKey, order.id, cleanups);
      for (let i = 0; i < 50; i++) await api(a.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: i % 2 === 0 ? 'b' : 'a' });
      await waitFor(() => versions.at(-1) === 51, 'version 51 on node B', 20_000);
      expect(versions).toEqual(range(2, 51));
    },
  );
});
