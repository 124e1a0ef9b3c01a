import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { api, cli, processTestFixtures, spawnServer } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';
import { RecordingEventSource } from './helpers/sse.js';

/** Three server processes on one PostgreSQL database: a link made on one node works on the others, live, and its revocation reaches them all. */
describe.skipIf(!databaseUrlForTests())('order links on three nodes (PostgreSQL)', () => {
  const { cleanups } = processTestFixtures();

  it('a link made on node A opens on B and C, goes live on B with a change written on C, and a revocation on A ends it everywhere', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-link-nodes-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const project = await cli(['projects', 'create', '--name', 'Nodes', '--lifecycle', 'store', '--json', '--database-url', schema.url]);
    const env = { ORDERCAST_REDIS_URL: '', REDIS_URL: '' };
    const nodes = [];
    for (let i = 0; i < 3; i++) {
      const node = await spawnServer(['--port', '0', '--data-dir', dataDir, '--database-url', schema.url], env);
      cleanups.push(() => node.stop());
      nodes.push(node);
    }
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const order = await api(a.url, project.secretKey, 'POST', '/api/v2/orders', {});
    const link = await api(a.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/links`, {});
    const linkPath = new URL(link.url).pathname;

    for (const node of [b, c]) {
      const view = await (await fetch(`${node.url}${linkPath}/status.json`)).json();
      expect(view.order).toMatchObject({ id: order.id, status: 'new', version: 1 });
    }
    const stream = new RecordingEventSource(`${b.url}${linkPath}/events`, { events: ['order.update', 'lapsed'] });
    cleanups.push(() => stream.close());
    await waitFor(() => stream.messages.length === 1, 'the current state on B');
    await api(c.url, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'paid' });
    await waitFor(() => stream.messages.length === 2, "C's change on B's stream");
    expect(stream.messages[1]).toMatchObject({ id: '2', data: { order: { status: 'paid' }, status: { label: 'Paid' } } });

    await api(a.url, project.secretKey, 'DELETE', `/api/v2/orders/${order.id}/links`);
    await waitFor(() => stream.messages.some((m) => m.event === 'lapsed'), "the revocation on B's stream");
    for (const node of [b, c]) expect((await fetch(`${node.url}${linkPath}/status.json`)).status).toBe(410);
  });
});
