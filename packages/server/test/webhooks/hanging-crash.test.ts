import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresSchema, testDialects } from '../helpers/databases.js';
import { allDeliveries, call, runCli, startServerProcess, type ServerProcess } from '../helpers/webhook-server-process.js';
import { eventually } from '../helpers/webhook-receiver.js';

const ENV = {
  ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
  ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
  // The lease is twice the timeout plus a second: a killed dispatcher's attempts come back after 7 s.
  ORDERCAST_WEBHOOK_TIMEOUT: '3s',
  ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms,200ms,200ms',
  ORDERCAST_WEBHOOK_RETRY_JITTER: '0',
};

describe.each(testDialects)('a dispatcher killed while holding attempts to a hanging endpoint (%s)', (dialect) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('loses nothing, and sends again only what was in flight when it died', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-hanging-crash-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const pg = dialect === 'postgres' ? await createPostgresSchema() : undefined;
    if (pg) cleanups.push(() => pg.drop());
    const db = ['--data-dir', dataDir, ...(pg ? ['--database-url', pg.url] : [])];
    const project = JSON.parse(await runCli(['projects', 'create', '--name', 'crash', '--lifecycle', 'onramp', '--json', ...db]));

    // Holds every request until told to answer; counts what it got by webhook-id.
    let answering = false;
    const held = new Set<string>();
    const receipts = new Map<string, number>();
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        receipts.set(id, (receipts.get(id) ?? 0) + 1);
        if (answering) res.end('{}');
        else held.add(id);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;

    let server: ServerProcess = await startServerProcess({ dataDir, databaseUrl: pg?.url, env: ENV });
    cleanups.push(() => server.kill('SIGKILL'));
    expect((await call(server.url, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url })).status).toBe(201);
    const orders = 8;
    for (let i = 0; i < orders; i++)
      expect((await call(server.url, project.secretKey, 'POST', '/api/v2/orders', { externalId: `hang-${i}` })).status).toBe(201);

    // The endpoint's lane is full of hanging attempts: kill the dispatcher holding them.
    await eventually(() => (held.size === 4 ? true : undefined), 10_000, 'four attempts held by the receiver');
    const inFlightAtKill = new Set(held);
    await server.kill('SIGKILL');
    answering = true;
    receiver.closeAllConnections();

    server = await startServerProcess({ dataDir, databaseUrl: pg?.url, env: ENV });
    const deliveries = await eventually(
      async () => {
        const list = await allDeliveries(server.url, project.secretKey);
        return list.length === orders && list.every((d) => d.status === 'succeeded') ? list : undefined;
      },
      30_000,
      'every delivery to succeed after the restart',
    );
    // Nothing lost: every delivery reached the receiver.
    for (const d of deliveries) expect(receipts.get(d.id), d.id).toBeGreaterThanOrEqual(1);
    // Sent twice only where the first attempt was in flight when the process died (at least once).
    const twice = [...receipts].filter(([, count]) => count > 1).map(([id]) => id);
    for (const id of twice) expect(inFlightAtKill.has(id), id).toBe(true);
    for (const [id, count] of receipts) expect(count, id).toBeLessThanOrEqual(2);
  }, 60_000);
});
