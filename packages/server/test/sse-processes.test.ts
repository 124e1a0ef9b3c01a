import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests, testDialects } from './helpers/databases.js';
import { api, cli, freePort, LOOP, redisUrlForTests, type ServerProcess, spawnServer } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';
import { RecordingEventSource } from './helpers/sse.js';

describe('Server-Sent Events across server processes', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-sse-restart-'));
    writeFileSync(path.join(dir, 'loop.json'), JSON.stringify(LOOP));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each(testDialects)(
    'an eventsource client resumes by Last-Event-ID after a SIGKILL and restart, with changes the CLI wrote meanwhile, and stops at the final version (%s)',
    async (dialect) => {
      const dataDir = path.join(dir, `data-${dialect}`);
      const db = ['--data-dir', dataDir];
      if (dialect === 'postgres') {
        const schema = await createPostgresSchema();
        cleanups.push(() => schema.drop());
        db.push('--database-url', schema.url);
      }
      const project = await cli(['projects', 'create', '--name', 'SSE restart', '--lifecycle', path.join(dir, 'loop.json'), '--json', ...db]);
      const port = await freePort();
      // Debug logging writes a line per request: the user token in ?token= must not be in it.
      const env = { ORDERCAST_LOG_LEVEL: 'debug' };
      let server: ServerProcess = await spawnServer(['--port', String(port), ...db], env);
      cleanups.push(() => server.stop());
      const order = await api(server.url, project.secretKey, 'POST', '/api/v2/orders', { userExternalId: 'shopper' });
      const { token } = await api(server.url, project.secretKey, 'POST', '/api/v2/tokens', { userExternalId: 'shopper' });

      // What a browser does: EventSource with the user token in the URL, no headers, no library.
      const sse = new RecordingEventSource(`${server.url}/api/v2/orders/${order.id}/stream?token=${encodeURIComponent(token)}`);
      cleanups.push(() => sse.close());
      await waitFor(() => sse.versions.length === 1, 'the current state');
      await api(server.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'b' });
      await waitFor(() => sse.versions.length === 2, 'version 2');

      const firstOutput = server.output();
      server.child.kill('SIGKILL');
      await server.stop();
      for (const status of ['a', 'b']) await cli(['orders', 'transition', order.id, status, '--project', project.id, '--json', ...db]);
      server = await spawnServer(['--port', String(port), ...db], env);

      // EventSource reconnects by itself with Last-Event-ID: 2, and gets 3 and 4 from the log.
      await waitFor(() => sse.versions.length === 4, 'the versions written while the server was down', 20_000);
      await api(server.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'done' });
      await waitFor(() => sse.closed, 'EventSource to stop after the final version', 20_000);

      expect(sse.versions).toEqual([1, 2, 3, 4, 5]);
      expect(sse.ids).toEqual(['1', '2', '3', '4', '5']);
      expect(sse.opened).toBeGreaterThanOrEqual(2);
      // The reconnect after the final version was answered 204, so EventSource closed for good.
      expect(sse.errors.at(-1)?.code).toBe(204);

      const logs = firstOutput + server.output();
      expect(logs).toContain('/stream?token=***');
      expect(logs).not.toContain(token);
    },
  );

  const redisUrl = redisUrlForTests();
  const pgUrl = databaseUrlForTests();

  it.skipIf(!redisUrl || !pgUrl)(
    'two processes sharing PostgreSQL and Redis: a stream on A carries every change written through B, in order, once',
    async () => {
      const schema = await createPostgresSchema();
      cleanups.push(() => schema.drop());
      const db = ['--data-dir', path.join(dir, 'data-nodes'), '--database-url', schema.url, '--redis-url', redisUrl!];
      const project = await cli([
        'projects',
        'create',
        '--name',
        'SSE nodes',
        '--lifecycle',
        path.join(dir, 'loop.json'),
        '--json',
        '--data-dir',
        path.join(dir, 'data-nodes'),
        '--database-url',
        schema.url,
      ]);
      // The log tail is off: only Redis can carry B's events to A.
      const env = { ORDERCAST_EVENT_POLL_MS: '0' };
      const a = await spawnServer(['--port', '0', ...db], env);
      cleanups.push(() => a.stop());
      const b = await spawnServer(['--port', '0', ...db], env);
      cleanups.push(() => b.stop());
      const order = await api(b.url, project.secretKey, 'POST', '/api/v2/orders', { userExternalId: 'u1' });
      const sse = new RecordingEventSource(`${a.url}/api/v2/orders/${order.id}/stream`, { bearer: project.secretKey });
      cleanups.push(() => sse.close());
      await waitFor(() => sse.versions.length === 1, 'the current state');
      for (let i = 0; i < 100; i++) await api(b.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: i % 2 === 0 ? 'b' : 'a' });
      await waitFor(() => sse.versions.at(-1) === 101, 'version 101 on A', 20_000);
      expect(sse.versions).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    },
  );
});
