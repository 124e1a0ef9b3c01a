import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, cli, freePort, spawnServer, type ServerProcess } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';
import { RecordingEventSource } from './helpers/sse.js';

const LOOP = { name: 'loop', statuses: ['a', 'b', 'done'], initial: ['a'], final: ['done'], transitions: { a: ['b', 'done'], b: ['a', 'done'] } };

async function api(base: string, key: string, method: string, urlPath: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

describe('Server-Sent Events across a server restart', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  let dir: string;

  beforeAll(() => {
    buildServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-sse-restart-'));
    writeFileSync(path.join(dir, 'loop.json'), JSON.stringify(LOOP));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('an eventsource client resumes by Last-Event-ID after a SIGKILL and restart, with changes the CLI wrote meanwhile, and stops at the final version', async () => {
    const dataDir = path.join(dir, 'data');
    const project = await cli(['projects', 'create', '--name', 'SSE restart', '--lifecycle', path.join(dir, 'loop.json'), '--json', '--data-dir', dataDir]);
    const port = await freePort();
    // Debug logging writes a line per request: the user token in ?token= must not be in it.
    const env = { ORDERCAST_LOG_LEVEL: 'debug' };
    let server: ServerProcess = await spawnServer(['--port', String(port), '--data-dir', dataDir], env);
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
    for (const status of ['a', 'b']) await cli(['orders', 'transition', order.id, status, '--project', project.id, '--data-dir', dataDir, '--json']);
    server = await spawnServer(['--port', String(port), '--data-dir', dataDir], env);

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
  });
});
