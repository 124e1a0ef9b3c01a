import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import pino from 'pino';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import type { PostgresBroker } from '../src/events/postgres-broker.js';
import { orderShard, type RedisBroker } from '../src/events/redis-broker.js';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { redisUrlForTests } from './helpers/processes.js';
import { connectSocket, emitWithAck, waitFor } from './helpers/realtime.js';

/** One server in this process with its log lines kept, on a database it shares with others. */
interface Node {
  app: App;
  url: string;
  warnings: Array<Record<string, any>>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode(databaseUrl: string, env: Record<string, string> = {}): Promise<Node> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-node-'));
  const warnings: Array<Record<string, any>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  // The log is never read on a timer: only hints (or the catch-up after a reconnect) bring other nodes' events.
  const config = loadConfig(
    { port: 0, host: '127.0.0.1', dataDir, databaseUrl, demo: false },
    {
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_WS_HANDSHAKE_RATE: '0',
      ORDERCAST_WS_MESSAGE_RATE: '0',
      ORDERCAST_METRICS_PORT: 'off',
      ORDERCAST_EVENT_POLL_MS: '0',
      ...env,
    },
  );
  const app = await createApp(config, { logger });
  const url = await app.listen();
  cleanups.push(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, url, warnings };
}

async function post(node: Node, key: string, urlPath: string, body: unknown): Promise<any> {
  const res = await fetch(`${node.url}${urlPath}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${urlPath}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A socket.io client on `node` following one order; the versions it received, in order. */
async function follow(node: Node, key: string, orderId: string): Promise<{ versions: number[]; socket: Socket }> {
  const socket = await connectSocket(node.url, { apiKey: key });
  cleanups.push(() => void socket.close());
  const versions: number[] = [];
  socket.on('order:update', (update) => versions.push(update.version));
  await emitWithAck(socket, 'subscribe:order', { orderId });
  return { versions, socket };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const pgUrl = databaseUrlForTests();

describe.skipIf(!pgUrl)('nodes joined by PostgreSQL LISTEN/NOTIFY, under faults', () => {
  async function twoNodes() {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const a = await startNode(schema.url);
    const b = await startNode(schema.url);
    const project = await a.app.projects.create({ name: 'Faults', lifecycle: 'onramp' });
    const order = await post(a, project.secretKey, '/api/v2/orders', {});
    return { schema, a, b, key: project.secretKey, order };
  }

  it('notices when its LISTEN connection is terminated, says so on /readyz, listens again and catches up from the log with no gap', async () => {
    const { a, b, key, order } = await twoNodes();
    const seen = await follow(b, key, order.id);
    await post(a, key, `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    // A commit reaches node B once no older transaction is open anywhere in the database: other files' can last seconds.
    await waitFor(() => seen.versions.length === 1, 'the first change to reach node B', 30_000);
    const broker = b.app.broker as PostgresBroker;
    const pid = broker.listenBackendPid;
    expect(pid).toBeTypeOf('number');
    expect((await (await fetch(`${b.url}/readyz`)).json()).databaseListen).toBe('ok');

    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    cleanups.push(() => admin.end());
    expect((await admin.query('select pg_terminate_backend($1) as done', [pid])).rows[0].done).toBe(true);
    await waitFor(() => !broker.isConnected, 'node B to notice its LISTEN connection is gone', 5_000);
    // Written while B cannot hear, and nothing after: only the catch-up after the reconnect can bring these.
    await post(a, key, `/api/v2/orders/${order.id}/status`, { status: 'PENDING_DELIVERY' });
    await post(a, key, `/api/v2/orders/${order.id}/status`, { status: 'COMPLETED' });
    const readiness = await (await fetch(`${b.url}/readyz`)).json();

    await waitFor(() => seen.versions.length === 3, 'node B to catch up after listening again', 10_000);
    expect(seen.versions).toEqual([2, 3, 4]);
    // A notification on the new connection can start the catch-up a moment before it counts as listening.
    await waitFor(() => broker.isConnected, 'node B to listen again', 10_000);
    expect(broker.listenBackendPid).not.toBe(pid);
    expect((await (await fetch(`${b.url}/readyz`)).json()).databaseListen).toBe('ok');
    expect(await b.app.metrics.registry.metrics()).toMatch(/^ordercast_broker_connected\{broker="postgres"\} 1$/m);
    // Unless the reconnect won the race against one request, /readyz said so while it was down.
    if (readiness.databaseListen !== 'ok') expect(readiness).toMatchObject({ status: 'ready', databaseListen: 'degraded' });
    expect(b.warnings.some((w) => /LISTEN connection lost/.test(w.msg))).toBe(true);
  });

  it('ignores notifications that are malformed or from an unknown source, with one warning per interval, and keeps working', async () => {
    const { a, b, key, order } = await twoNodes();
    const seen = await follow(b, key, order.id);
    const channel = (b.app.broker as unknown as { options: { channel: string } }).options.channel;
    const stranger = new pg.Client({ connectionString: pgUrl });
    await stranger.connect();
    cleanups.push(() => stranger.end());
    const junk = [
      'garbage',
      '',
      'null',
      '{"node":"someone","hint":{"projectId":"../../etc"}}',
      '{"hint":{"projectId":"prj_x"}}',
      '{"node":"someone","hint":{"projectId":"prj_x","orderId":42}}',
      '[1,2,3]',
      JSON.stringify({ node: 'x', hint: { projectId: 'p'.repeat(500) } }),
    ];
    for (let i = 0; i < 5; i++) for (const payload of junk) await stranger.query(`select pg_notify($1, $2)`, [channel, payload]);
    await stranger.query(`NOTIFY "${channel}", 'garbage'`);
    await waitFor(() => b.warnings.some((w) => /ignored a notification/.test(w.msg)), 'the warning');

    await post(a, key, `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    await waitFor(() => seen.versions.length === 1, 'a real change to still reach node B');
    expect(seen.versions).toEqual([2]);
    expect(b.warnings.filter((w) => /ignored a notification/.test(w.msg))).toHaveLength(1);
    expect((b.app.broker as PostgresBroker).isConnected).toBe(true);
  });
});

const redisUrl = redisUrlForTests();

describe.skipIf(!pgUrl || !redisUrl)('nodes joined by Redis, under bad messages', () => {
  it('ignores malformed messages and ones naming a project or order of another channel, with one warning per interval, and keeps working', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const prefix = `ordercast:test:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const env = { ORDERCAST_REDIS_URL: redisUrl!, ORDERCAST_REDIS_CHANNEL: prefix };
    const a = await startNode(schema.url, env);
    const b = await startNode(schema.url, env);
    const project = await a.app.projects.create({ name: 'Redis faults', lifecycle: 'onramp' });
    const order = await post(a, project.secretKey, '/api/v2/orders', {});
    const seen = await follow(b, project.secretKey, order.id);
    const shardChannel = `${prefix}:o:${orderShard(order.id)}`;
    const redis = new Redis(redisUrl!);
    cleanups.push(() => void redis.disconnect());
    // Wait until B listens on the order's shard (its subscription is sent after the client subscribed).
    await waitFor(async () => Number(((await redis.call('pubsub', 'numsub', shardChannel)) as [string, number])[1]) >= 1, 'node B to subscribe to the shard');
    let otherOrder = 'ord_other0';
    for (let i = 1; orderShard(otherOrder) === orderShard(order.id); i++) otherOrder = `ord_other${i}`;
    const junk = [
      'garbage',
      '{}',
      JSON.stringify({ node: 'intruder', hint: { projectId: 'prj_unknown', orderId: otherOrder } }),
      JSON.stringify({ node: 'intruder', hint: { projectId: 'has spaces', orderId: order.id } }),
      JSON.stringify({ node: 'intruder', hint: 'prj_x' }),
    ];
    for (let i = 0; i < 5; i++) for (const message of junk) await redis.publish(shardChannel, message);
    await waitFor(() => b.warnings.some((w) => /ignored a message/.test(w.msg)), 'the warning');

    await post(a, project.secretKey, `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    await post(a, project.secretKey, `/api/v2/orders/${order.id}/status`, { status: 'PENDING_DELIVERY' });
    await waitFor(() => seen.versions.length === 2, 'real changes to still reach node B');
    expect(seen.versions).toEqual(range(2, 3));
    // One line per reason and interval: a flood leaves a readable log.
    const lines = b.warnings.filter((w) => /ignored a message/.test(w.msg));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!pgUrl || !redisUrl)('nodes joined by Redis subscribe only to what their clients follow', () => {
  it('a node with no clients listens on no channel; one subscribes to a project or an order shard while a client follows it, and lets go after', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const prefix = `ordercast:test:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const env = { ORDERCAST_REDIS_URL: redisUrl!, ORDERCAST_REDIS_CHANNEL: prefix };
    const writer = await startNode(schema.url, env);
    const reader = await startNode(schema.url, env);
    const project = await writer.app.projects.create({ name: 'Interest', lifecycle: 'onramp' });
    const order = await post(writer, project.secretKey, '/api/v2/orders', {});
    const redis = new Redis(redisUrl!);
    cleanups.push(() => void redis.disconnect());
    const listeners = async (channel: string) => Number(((await redis.call('pubsub', 'numsub', channel)) as [string, number])[1]);
    const projectChannel = `${prefix}:p:${project.project.id}`;
    const shardChannel = `${prefix}:o:${orderShard(order.id)}`;
    expect((writer.app.broker as RedisBroker).subscribedChannels).toBe(0);
    expect((reader.app.broker as RedisBroker).subscribedChannels).toBe(0);

    const seen = await follow(reader, project.secretKey, order.id);
    await waitFor(async () => (await listeners(shardChannel)) === 1, 'the reader to subscribe to the order shard');
    expect(await listeners(projectChannel)).toBe(0);
    await emitWithAck(seen.socket, 'subscribe:project');
    await waitFor(async () => (await listeners(projectChannel)) === 1, 'the reader to subscribe to the project');
    expect((writer.app.broker as RedisBroker).subscribedChannels).toBe(0);

    await post(writer, project.secretKey, `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    await waitFor(() => seen.versions.includes(2), 'the change to reach the reader');

    seen.socket.close();
    await waitFor(async () => (await listeners(projectChannel)) + (await listeners(shardChannel)) === 0, 'the reader to let go of both channels');
    expect((reader.app.broker as RedisBroker).subscribedChannels).toBe(0);
  });
});

describe('configuration of the LISTEN connection', () => {
  it('takes --database-listen-url or ORDERCAST_DATABASE_LISTEN_URL, and refuses anything but a postgres:// URL', () => {
    expect(loadConfig({}, {}).databaseListenUrl).toBeUndefined();
    expect(loadConfig({}, { ORDERCAST_DATABASE_LISTEN_URL: 'postgres://db:5432/app' }).databaseListenUrl).toBe('postgres://db:5432/app');
    expect(loadConfig({ databaseListenUrl: 'postgresql://direct/app' }, { ORDERCAST_DATABASE_LISTEN_URL: 'postgres://db/app' }).databaseListenUrl).toBe(
      'postgresql://direct/app',
    );
    expect(() => loadConfig({ databaseListenUrl: 'redis://127.0.0.1:6379' }, {})).toThrow(ConfigError);
    expect(() => loadConfig({}, { ORDERCAST_DATABASE_LISTEN_URL: 'db:5432' })).toThrow(/must be a postgres/);
    expect(loadConfig({}, {}).databasePreparedStatements).toBe(true);
    expect(loadConfig({}, { ORDERCAST_DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements).toBe(false);
    expect(() => loadConfig({}, { ORDERCAST_DATABASE_PREPARED_STATEMENTS: 'sometimes' })).toThrow(ConfigError);
  });
});
