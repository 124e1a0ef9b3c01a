import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests } from '../helpers/databases.js';
import { allDeliveries, call, runCli, startServerProcess, type ServerProcess } from '../helpers/webhook-server-process.js';
import { eventually, startReceiver } from '../helpers/webhook-receiver.js';

const ENV = {
  ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
  ORDERCAST_WEBHOOK_POLL_INTERVAL: '50ms',
  ORDERCAST_WEBHOOK_CONCURRENCY: '8',
};

async function successes(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return Number(/ordercast_webhook_deliveries_total\{outcome="succeeded"\} (\d+)/.exec(text)?.[1] ?? 0);
}

describe.skipIf(!databaseUrlForTests())('two server processes on one PostgreSQL database', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('share the outbox and deliver each event exactly once', async () => {
    const pg = await createPostgresSchema();
    cleanups.push(() => pg.drop());
    const dirs = [0, 1].map(() => mkdtempSync(path.join(os.tmpdir(), 'ordercast-two-')));
    cleanups.push(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const project = JSON.parse(
      await runCli(['projects', 'create', '--name', 'two', '--lifecycle', 'onramp', '--json', '--data-dir', dirs[0]!, '--database-url', pg.url]),
    );
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const servers: ServerProcess[] = [];
    for (const dir of dirs) {
      const server = await startServerProcess({ dataDir: dir, databaseUrl: pg.url, env: ENV });
      servers.push(server);
      cleanups.push(() => server.kill('SIGTERM'));
    }
    const [a, b] = servers as [ServerProcess, ServerProcess];
    expect((await call(a.url, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url: receiver.url })).status).toBe(201);

    // 100 orders x 4 events, written through both processes alternately, 10 writers at once.
    const writer = async (n: number) => {
      for (let i = n; i < 100; i += 10) {
        const via = i % 2 === 0 ? a : b;
        const created = await call(via.url, project.secretKey, 'POST', '/api/v2/orders', { externalId: `o-${i}` });
        expect(created.status).toBe(201);
        for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) {
          const moved = await call((i + 1) % 2 === 0 ? a.url : b.url, project.secretKey, 'POST', `/api/v2/orders/${created.body.id}/status`, { status });
          expect(moved.status).toBe(200);
        }
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, n) => writer(n)));
    await receiver.waitForCount(400, 30_000);
    const deliveries = await eventually(
      async () => {
        const all = await allDeliveries(a.url, project.secretKey);
        return all.length === 400 && all.every((d) => d.status === 'succeeded') ? all : undefined;
      },
      20_000,
      'all 400 deliveries to succeed',
    );
    const elapsed = Date.now() - started;
    // Give a late duplicate, if there were one, time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    expect(ids).toHaveLength(400);
    expect(new Set(ids).size).toBe(400);
    expect(new Set(deliveries.map((d) => d.id))).toEqual(new Set(ids));
    expect(deliveries.every((d) => d.attemptCount === 1)).toBe(true);
    // Both processes did part of the work.
    const [sentByA, sentByB] = [await successes(a.metricsUrl), await successes(b.metricsUrl)];
    expect(sentByA + sentByB).toBe(400);
    expect(sentByA).toBeGreaterThan(0);
    expect(sentByB).toBeGreaterThan(0);
    console.log(`[two processes] 400 events delivered exactly once in ${elapsed} ms (process A sent ${sentByA}, B sent ${sentByB})`);
  });
});
