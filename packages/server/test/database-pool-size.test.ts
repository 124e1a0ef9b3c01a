import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { waitFor } from './helpers/realtime.js';
import { runCli } from './helpers/server-process.js';
import { createApp, type App } from '../src/app.js';

describe('the PostgreSQL pool size setting', () => {
  it('defaults to 10 and takes the flag over the environment', () => {
    expect(loadConfig({}, {}).databasePoolSize).toBe(10);
    expect(loadConfig({}, { ORDERCAST_DATABASE_POOL_SIZE: '25' }).databasePoolSize).toBe(25);
    expect(loadConfig({ databasePoolSize: '4' }, { ORDERCAST_DATABASE_POOL_SIZE: '25' }).databasePoolSize).toBe(4);
  });

  it.each(['0', 'ten', '2.5', '5000'])('refuses ORDERCAST_DATABASE_POOL_SIZE=%s with a clear configuration error', (value) => {
    expect(() => loadConfig({}, { ORDERCAST_DATABASE_POOL_SIZE: value })).toThrow(ConfigError);
    expect(() => loadConfig({}, { ORDERCAST_DATABASE_POOL_SIZE: value })).toThrow(
      `--database-pool-size (ORDERCAST_DATABASE_POOL_SIZE) must be a whole number from 1 to 1000 (got "${value}")`,
    );
  });

  it('stops `serve --database-pool-size 0` with exit code 2 and the same message', () => {
    const result = runCli(['serve', '--database-pool-size', '0', '--database-url', 'postgres://nobody@127.0.0.1:1/none']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('configuration error: --database-pool-size (ORDERCAST_DATABASE_POOL_SIZE) must be a whole number from 1 to 1000 (got "0")');
  });
});

/**
 * The pool holds at most that many connections: with the orders table locked, two
 * list requests wait on the lock holding both connections, and the others wait for a
 * connection until the connect timeout answers them 503. The order-timing sweeper is
 * off: it reads `orders` too, so a tick inside the locked window would hold one of the
 * two connections itself and leave one list request to time out as well.
 */
describe.skipIf(!databaseUrlForTests())('the pool size on PostgreSQL', () => {
  const applicationName = `ordercast_pool_${process.pid}_${Date.now().toString(36)}`;
  let app: App;
  let baseUrl: string;
  let locker: pg.Client;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-pool-'));

  beforeAll(async () => {
    const schema = await createPostgresSchema();
    const url = new URL(schema.url);
    url.searchParams.set('application_name', applicationName);
    app = await createApp(
      loadConfig(
        { port: 0, host: '127.0.0.1', dataDir, databaseUrl: url.toString(), demo: false },
        {
          ORDERCAST_DATABASE_POOL_SIZE: '2',
          ORDERCAST_DATABASE_CONNECT_TIMEOUT: '1s',
          ORDERCAST_WEBHOOK_DISPATCH: 'false',
          ORDERCAST_TIMING_SWEEP_MS: '0',
          ORDERCAST_RATE_LIMIT: '0',
          ORDERCAST_METRICS_PORT: 'off',
        },
      ),
      { logger: pino({ level: 'silent' }) },
    );
    baseUrl = await app.listen();
    locker = new pg.Client({ connectionString: schema.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never opens more query connections than configured', async () => {
    const project = await app.projects.create({ name: 'Pool', lifecycle: 'onramp' });
    await locker.query('begin');
    await locker.query('lock table orders in access exclusive mode');
    const statuses: number[] = [];
    const lists = Array.from({ length: 6 }, () =>
      fetch(`${baseUrl}/api/v2/orders`, { headers: { authorization: `Bearer ${project.secretKey}` } }).then((r) => statuses.push(r.status)),
    );
    // Two requests hold the pool's two connections, waiting on the lock; the four others get no connection.
    await waitFor(() => statuses.length >= 4, 'four requests answered while the table is locked', 20_000);
    const waitingOnTheLock = await locker.query(`select count(*)::int as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`, [
      applicationName,
    ]);
    expect(waitingOnTheLock.rows[0].n).toBeLessThanOrEqual(2);
    expect(statuses.slice(0, 4)).toEqual([503, 503, 503, 503]);
    await locker.query('commit');
    await Promise.all(lists);
    expect(statuses.slice(4)).toEqual([200, 200]);
  });
});
