import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { connectSocket, emitWithAck } from './helpers/realtime.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { startTestServer } from './helpers/test-server.js';

/** Two statuses to go back and forth between, so a writer can transition one order for as long as the test runs. */
const PING_PONG_LIFECYCLE = {
  name: 'ping-pong',
  statuses: ['ping', 'pong', 'closed'],
  initial: ['ping'],
  final: ['closed'],
  transitions: { ping: ['pong', 'closed'], pong: ['ping', 'closed'] },
};

interface Answer {
  status: number | 'network error';
  body: any;
  headers: Headers | undefined;
}

async function call(baseUrl: string, key: string, method: string, urlPath: string, body?: unknown): Promise<Answer> {
  try {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed, headers: response.headers };
  } catch (error) {
    return { status: 'network error', body: String(error), headers: undefined };
  }
}

/** A project with the ping-pong lifecycle in the database at `databaseUrl`, made by the CLI. */
function createProject(dir: string, databaseUrl: string): { id: string; secretKey: string } {
  const lifecycleFile = path.join(dir, 'ping-pong.json');
  writeFileSync(lifecycleFile, JSON.stringify(PING_PONG_LIFECYCLE));
  const created = runCli(['projects', 'create', '--name', 'faults', '--lifecycle', lifecycleFile, '--json', '--data-dir', dir, '--database-url', databaseUrl]);
  if (created.code !== 0) throw new Error(`projects create failed: ${created.stderr}`);
  return JSON.parse(created.stdout);
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a database URL that points nowhere', () => {
  it('stops the server at start-up with a message naming the database (password hidden) and the cause', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-nodb-'));
    try {
      const closed = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const port = (probe.address() as net.AddressInfo).port;
          probe.close(() => resolve(port));
        });
      });
      const result = runCli([
        'serve',
        '--port',
        '0',
        '--metrics-port',
        'off',
        '--data-dir',
        dir,
        '--database-url',
        `postgres://shop:hunter2@127.0.0.1:${closed}/orders`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Cannot open the PostgreSQL database at postgres://shop:***@127.0.0.1:${closed}/orders`);
      expect(result.stderr).toContain('ECONNREFUSED');
      expect(result.stderr).not.toContain('hunter2');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!databaseUrlForTests())('PostgreSQL connections cut under load', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps the process up, answers 2xx or 503 (per item in a batch), loses no acknowledged transition and applies none twice', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    // Its own application_name, so the cuts end this server's connections and no other test's.
    const appName = `ordercast_faults_${process.pid}_${Date.now().toString(36)}`;
    const url = new URL(schema.url);
    url.searchParams.set('application_name', appName);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-cuts-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const project = createProject(dir, url.toString());
    const server: ServerProcess = await startServerProcess(['--no-demo', '--data-dir', dir, '--database-url', url.toString()], {
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_DATABASE_CONNECT_TIMEOUT: '2s',
    });
    cleanups.push(() => server.stop());
    const admin = new pg.Client({ connectionString: databaseUrlForTests() });
    await admin.connect();
    cleanups.push(() => admin.end());

    const WRITERS = 8;
    const orderIds: string[][] = [];
    for (let w = 0; w < WRITERS; w++) {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', {});
        expect(created.status).toBe(201);
        ids.push(created.body.id);
      }
      orderIds.push(ids);
    }

    // A Socket.IO subscriber follows one order through the cuts.
    const watched = orderIds[0]![0]!;
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    cleanups.push(() => socket.close());
    await emitWithAck(socket, 'subscribe:order', { orderId: watched });
    const seenVersions = new Set<number>();
    socket.on('order:update', (update: { version?: number; order?: { version?: number } }) => seenVersions.add(update.version ?? update.order?.version ?? -1));

    const acknowledged: Array<{ orderId: string; version: number; status: string }> = [];
    const answers = new Map<string, number>();
    let missingRetryAfter = 0;
    let stop = false;
    const count = (answer: Answer) => {
      const key =
        answer.status === 'network error' ? 'network error' : answer.status >= 500 ? `${answer.status} ${answer.body?.error?.code}` : String(answer.status);
      answers.set(key, (answers.get(key) ?? 0) + 1);
      if (answer.status === 503 && !answer.headers?.get('retry-after')) missingRetryAfter++;
    };
    /** Each writer moves its own orders back and forth; after an unclear answer it reads where the order is. */
    /** Reads where an order stands until the server answers; false once the test stops and the server is gone. */
    const learnStatus = async (id: string, current: Map<string, string>): Promise<boolean> => {
      for (;;) {
        const read = await call(server.baseUrl, project.secretKey, 'GET', `/api/v2/orders/${id}`);
        count(read);
        if (read.status === 200) {
          current.set(id, read.body.status);
          return true;
        }
        if (stop && read.status === 'network error') return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const writer = async (ids: string[]) => {
      const current = new Map(ids.map((id) => [id, 'ping']));
      for (let i = 0; !stop; i++) {
        const id = ids[i % ids.length]!;
        const next = current.get(id) === 'ping' ? 'pong' : 'ping';
        const answer = await call(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${id}/status`, { status: next });
        count(answer);
        if (answer.status === 200) {
          acknowledged.push({ orderId: id, version: answer.body.version, status: next });
          current.set(id, next);
        } else {
          // A 503 after COMMIT was sent may still have committed: learn the truth before going on.
          if (!(await learnStatus(id, current))) return;
        }
      }
    };
    /**
     * A backend syncing in batches: each order moves to the other status and back in one
     * request, every item with a reason of its own. Applying a committed batch again would
     * move an order twice more, so a reason seen twice in the log is a change applied twice.
     */
    const batchOrderIds: string[] = [];
    for (let i = 0; i < 3; i++) batchOrderIds.push((await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', {})).body.id);
    const batchItemAnswers = new Map<string, number>();
    const batchWriter = async () => {
      const current = new Map(batchOrderIds.map((id) => [id, 'ping']));
      for (let round = 0; !stop; round++) {
        const items = batchOrderIds.flatMap((id) => {
          const there = current.get(id) === 'ping' ? 'pong' : 'ping';
          return [
            { kind: 'transition', orderId: id, body: { status: there, reason: `batch ${round} ${id} there` } },
            { kind: 'transition', orderId: id, body: { status: current.get(id), reason: `batch ${round} ${id} back` } },
          ];
        });
        const answer = await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders/batch', { items });
        count(answer);
        const results: Array<{ status: number; body: any }> = answer.status === 200 ? answer.body.data : [];
        results.forEach((result, i) => {
          const key = `${result.status} ${result.body?.error?.code ?? ''}`.trim();
          batchItemAnswers.set(key, (batchItemAnswers.get(key) ?? 0) + 1);
          if (result.status === 200) acknowledged.push({ orderId: items[i]!.orderId, version: result.body.version, status: items[i]!.body.status! });
        });
        if (results.length === items.length && results.every((r) => r.status === 200)) continue;
        // Some items were not applied, or the answer was lost: learn where each order is.
        for (const id of batchOrderIds) {
          if (!(await learnStatus(id, current))) return;
        }
      }
    };
    const load = [...orderIds.map((ids) => writer(ids)), batchWriter()];

    const CUTS = 5;
    const terminated: number[] = [];
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let cut = 0; cut < CUTS; cut++) {
      const result = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [
        appName,
      ]);
      terminated.push(result.rowCount ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop = true;
    await Promise.all(load);

    const total = [...answers.values()].reduce((a, b) => a + b, 0);
    const good = [...answers.entries()].filter(([key]) => key === '200' || key.startsWith('503 ')).reduce((n, [, v]) => n + v, 0);
    console.log(
      `[db cuts] backends terminated per cut ${terminated.join(', ')}; answers ${JSON.stringify(Object.fromEntries(answers))}; batch items ${JSON.stringify(Object.fromEntries(batchItemAnswers))}; ${acknowledged.length} acknowledged transitions`,
    );
    // Every item of a batch was applied or answered 503: no other answer, and no item left out.
    expect([...batchItemAnswers.keys()].every((key) => key === '200' || key === '503 database_unavailable')).toBe(true);
    expect(batchItemAnswers.get('200') ?? 0).toBeGreaterThan(10);

    // The cuts hit live connections, and the server lived through every one.
    expect(terminated.every((n) => n > 0)).toBe(true);
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/Unhandled 'error' event|uncaught/i);
    expect(good / total).toBeGreaterThanOrEqual(0.99);
    expect([...answers.keys()].every((key) => key === '200' || key === '503 database_unavailable' || key === 'network error' || !key.startsWith('5'))).toBe(
      true,
    );
    expect(missingRetryAfter).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(20);

    // Every transition that was answered 200 is in the log, with the version and status it was acknowledged with.
    const batchReasons: string[] = [];
    for (const ids of [...orderIds, batchOrderIds]) {
      for (const id of ids) {
        // The whole history, a page at a time: a fast run gives an order more than one page.
        const byVersion = new Map<number, string>();
        for (let after = 0, more = true; more; ) {
          const events = await call(server.baseUrl, project.secretKey, 'GET', `/api/v2/orders/${id}/events?afterVersion=${after}&limit=1000`);
          expect(events.status).toBe(200);
          for (const e of events.body.data) {
            byVersion.set(e.version, e.toStatus);
            if (e.reason?.startsWith('batch ')) batchReasons.push(e.reason);
          }
          more = events.body.hasMore;
          after = events.body.data.at(-1)?.version ?? after;
        }
        for (const ack of acknowledged.filter((a) => a.orderId === id)) expect(byVersion.get(ack.version)).toBe(ack.status);
      }
    }
    // No batch item was applied twice, however its connection died.
    expect(batchReasons.length).toBeGreaterThan(10);
    expect(new Set(batchReasons).size).toBe(batchReasons.length);
    const ready = await call(server.baseUrl, project.secretKey, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    // The subscriber got every acknowledged change of its order, cuts or not.
    const watchedAcks = acknowledged.filter((a) => a.orderId === watched).map((a) => a.version);
    await waitUntil(() => watchedAcks.every((v) => seenVersions.has(v)), 'the subscriber to see every acknowledged version');
  });
});

/** A TCP hop in front of PostgreSQL that the test can cut, black-hole and restore, like a failing network. */
async function startDatabaseHop(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let mode: 'forward' | 'blackhole' = 'forward';
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => {});
        if (mode === 'blackhole') return;
        const upstream = net.connect(target.port, target.host);
        sockets.add(upstream);
        upstream.on('close', () => (sockets.delete(upstream), client.destroy()));
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server) server.close(() => resolve());
      else resolve();
      server = undefined;
    });
  return {
    get port() {
      return port;
    },
    /** Closes every connection and stops listening: connections are refused. */
    cut: close,
    /** Accepts connections and never answers: connecting hangs until the client gives up. */
    async blackhole() {
      await close();
      mode = 'blackhole';
      await listen();
    },
    async restore() {
      await close();
      mode = 'forward';
      await listen();
    },
    close,
  };
}

describe.skipIf(!databaseUrlForTests())('PostgreSQL unreachable', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('answers 503 with Retry-After quickly, says unready, and recovers when the database returns', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const direct = new URL(schema.url);
    const hop = await startDatabaseHop({ host: direct.hostname, port: Number(direct.port || 5432) });
    cleanups.push(() => hop.close());
    const viaHop = new URL(schema.url);
    viaHop.port = String(hop.port);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-hop-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const project = createProject(dir, schema.url);
    const server = await startServerProcess(['--no-demo', '--data-dir', dir, '--database-url', viaHop.toString()], {
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_DATABASE_CONNECT_TIMEOUT: '1s',
    });
    cleanups.push(() => server.stop());
    const order = await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', {});
    expect(order.status).toBe(201);

    for (const fault of ['cut', 'blackhole'] as const) {
      await hop[fault]();
      const started = Date.now();
      const write = await call(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.body.id}/status`, { status: 'pong' });
      // Never a hanging request: the connect timeout (1 s here) bounds the wait.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(write.status).toBe(503);
      expect(write.body.error.code).toBe('database_unavailable');
      expect(Number(write.headers?.get('retry-after'))).toBeGreaterThan(0);
      const read = await call(server.baseUrl, project.secretKey, 'GET', `/api/v2/orders/${order.body.id}`);
      expect(read.status).toBe(503);
      const ready = await call(server.baseUrl, project.secretKey, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', database: 'postgres' });
      expect((await call(server.baseUrl, project.secretKey, 'GET', '/healthz')).status).toBe(200);

      await hop.restore();
      await waitUntil(async () => (await call(server.baseUrl, project.secretKey, 'GET', '/readyz')).status === 200, 'readiness after the database returned');
      const after = await call(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.body.id}/status`, { status: 'pong' });
      expect(after.status).toBe(200);
      const back = await call(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.body.id}/status`, { status: 'ping' });
      expect(back.status).toBe(200);
    }
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).toContain('database connection lost');
  });

  it('cancels a statement stuck behind a lock after the statement timeout and answers 503', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-stuck-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const project = createProject(dir, schema.url);
    const server = await startServerProcess(['--no-demo', '--data-dir', dir, '--database-url', schema.url], {
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_DATABASE_STATEMENT_TIMEOUT: '500ms',
    });
    cleanups.push(() => server.stop());
    const order = await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', {});
    expect(order.status).toBe(201);

    const locker = new pg.Client({ connectionString: schema.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('begin');
    await locker.query('lock table orders in access exclusive mode');
    try {
      const started = Date.now();
      const stuck = await call(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.body.id}/status`, { status: 'pong' });
      expect(stuck.status).toBe(503);
      expect(stuck.body.error.code).toBe('database_unavailable');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await locker.query('rollback');
    }
    const after = await call(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.body.id}/status`, { status: 'pong' });
    expect(after.status).toBe(200);
  });
});

describe('SQLite when the disk is full', () => {
  it('answers writes 503 database_unavailable, keeps serving reads, and writes again once there is room', async () => {
    const server = await startTestServer('sqlite');
    try {
      const project = await server.createProject('store');
      const created = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: {} });
      expect(created.status).toBe(201);
      // SQLite's own page cap makes the file behave exactly as a full disk does (SQLITE_FULL).
      const pages = Number(await readPragma(server, 'page_count'));
      await setPragma(server, `max_page_count = ${pages}`);
      const big = { metadata: { note: 'x'.repeat(8_000) } };
      let full: Awaited<ReturnType<typeof server.request<any>>> | undefined;
      for (let i = 0; i < 50 && !full; i++) {
        const answer = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: big });
        if (answer.status !== 201) full = answer;
      }
      expect(full?.status).toBe(503);
      expect(full?.body.error.code).toBe('database_unavailable');
      expect(Number(full?.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await server.request('GET', `/api/v2/orders/${created.body.id}`, { key: project.secretKey })).status).toBe(200);

      await setPragma(server, 'max_page_count = 1073741823');
      const moved = await server.request('POST', `/api/v2/orders/${created.body.id}/status`, { key: project.secretKey, body: { status: 'paid' } });
      expect(moved.status).toBe(200);
      expect((await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: big })).status).toBe(201);
    } finally {
      await server.close();
    }
  });
});

async function readPragma(server: Awaited<ReturnType<typeof startTestServer>>, name: string): Promise<unknown> {
  const { sql } = await import('kysely');
  const result = await sql.raw(`pragma ${name}`).execute(server.app.store.db);
  return Object.values((result.rows[0] ?? {}) as object)[0];
}

async function setPragma(server: Awaited<ReturnType<typeof startTestServer>>, assignment: string): Promise<void> {
  const { sql } = await import('kysely');
  await sql.raw(`pragma ${assignment}`).execute(server.app.store.db);
}
