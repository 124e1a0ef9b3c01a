import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../src/domain/order.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { OrderReadCache } from '../src/services/order-read-cache.js';
import { testDialects } from './helpers/databases.js';
import { cli } from './helpers/processes.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

describe('OrderReadCache', () => {
  const order = (id: string, version: number, metadata: Record<string, unknown> = {}) => ({ id, version, metadata, userExternalId: null }) as unknown as Order;

  it('keeps the highest version it was offered: a slow read never puts an older state back', () => {
    const cache = new OrderReadCache(1024 * 1024);
    cache.offer('p', order('o1', 3));
    cache.offer('p', order('o1', 2));
    expect(cache.peek('o1')?.order.version).toBe(3);
    expect(cache.peek('o1')?.etag).toBe('"v3"');
    cache.offer('p', order('o1', 4));
    expect(cache.peek('o1')?.order.version).toBe(4);
  });

  it('renders a body once per version and stays within its byte bound, dropping the least recently used', () => {
    const cache = new OrderReadCache(64 * 1024);
    let renders = 0;
    const render = (o: Order) => {
      renders++;
      return JSON.stringify({ ...o, padding: 'x'.repeat(1000) });
    };
    for (let i = 0; i < 200; i++) {
      cache.offer('p', order(`o${i}`, 1));
      const entry = cache.lookup(`o${i}`)!;
      cache.bodyOf(entry, render);
      cache.bodyOf(entry, render);
      expect(cache.sizeBytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(renders).toBe(200);
    expect(cache.peek('o0')).toBeUndefined();
    expect(cache.peek('o199')).toBeDefined();
    expect(cache.size).toBeLessThan(200);
  });

  it('reads an entry again once it is older than its age limit, and never takes an older version for it', () => {
    const cache = new OrderReadCache(1024 * 1024, -1);
    cache.offer('p', order('o1', 2, { wiped: false }));
    expect(cache.lookup('o1')).toBeUndefined();
    cache.offer('p', order('o1', 2, { wiped: false }));
    cache.offer('p', order('o1', 2, { wiped: true }));
    expect(cache.peek('o1')?.order.metadata).toEqual({ wiped: true });
    cache.offer('p', order('o1', 1));
    expect(cache.peek('o1')?.order.version).toBe(2);
  });

  it('holds nothing when its size is 0', () => {
    const cache = new OrderReadCache(0);
    cache.offer('p', order('o1', 1));
    expect(cache.lookup('o1')).toBeUndefined();
    expect(cache.misses).toBe(1);
  });
});

describe.each(testDialects)('polling from the read cache on %s', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  let other: CreatedProject;
  let lifecycleFile: string;

  beforeAll(async () => {
    server = await startTestServer(dialect);
    project = await server.createProject('onramp', 'Cached');
    other = await server.createProject('onramp', 'Other tenant');
    lifecycleFile = path.join(server.dataDir, 'ping.json');
    writeFileSync(
      lifecycleFile,
      JSON.stringify({ name: 'ping', statuses: ['a', 'b', 'done'], initial: ['a'], final: ['done'], transitions: { a: ['b', 'done'], b: ['a', 'done'] } }),
    );
  });
  afterAll(async () => server?.close());

  const get = (id: string, key: string, headers: Record<string, string> = {}) => server.request('GET', `/api/v2/orders/${id}`, { key, headers });

  it('answers a repeated poll from memory with the same body, ETag and 304 as a database read', async () => {
    const created = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: { userExternalId: 'alice', metadata: { n: 1 } } });
    const before = await (await fetch(server.metricsUrl)).text();
    const first = await get(created.body.id, project.secretKey);
    const second = await get(created.body.id, project.secretKey);
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('etag')).toBe('"v1"');
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(second.headers.get('cache-control')).toBe('no-store');
    const notModified = await get(created.body.id, project.secretKey, { 'if-none-match': '"v1"' });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    const after = await (await fetch(server.metricsUrl)).text();
    expect(metric(after, 'ordercast_order_cache_hits_total') - metric(before, 'ordercast_order_cache_hits_total')).toBe(3);
    expect(metric(after, 'ordercast_order_cache_bytes')).toBeGreaterThan(0);
  });

  it('a writer reads its change back at once', async () => {
    const created = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: {} });
    await get(created.body.id, project.secretKey);
    const moved = await server.request('POST', `/api/v2/orders/${created.body.id}/status`, { key: project.secretKey, body: { status: 'PROCESSING' } });
    expect(moved.status).toBe(200);
    const read = await get(created.body.id, project.secretKey);
    expect(read.body.version).toBe(2);
    expect(read.body.status).toBe('PROCESSING');
    expect(read.headers.get('etag')).toBe('"v2"');
  });

  it('shows a change written by another process once the log follower has read it', async () => {
    const dbArgs = dialect === 'postgres' ? ['--database-url', server.databaseUrl!] : ['--data-dir', server.dataDir];
    const cliProject = await cli(['projects', 'create', '--name', 'CLI', '--lifecycle', lifecycleFile, '--json', ...dbArgs]);
    const order = await cli(['orders', 'create', '--project', cliProject.id, '--json', ...dbArgs]);
    const key = cliProject.secretKey;
    expect((await get(order.id, key)).body.version).toBe(1);
    expect((await get(order.id, key)).body.version).toBe(1);
    await cli(['orders', 'transition', order.id, 'b', '--project', cliProject.id, '--json', ...dbArgs]);
    // The follower reads the log at least every ORDERCAST_EVENT_POLL_MS (1 s): poll as a client would.
    let seen = 1;
    const deadline = Date.now() + 10_000;
    while (seen === 1 && Date.now() < deadline) {
      const read = await get(order.id, key, { 'if-none-match': '"v1"' });
      if (read.status === 200) seen = read.body.version;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toBe(2);
  });

  it('a cached order is invisible to another tenant and to another user, exactly as an uncached one', async () => {
    const created = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: { userExternalId: 'alice' } });
    await get(created.body.id, project.secretKey);
    const foreign = await get(created.body.id, other.secretKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('order_not_found');
    const bob = await server.request('POST', '/api/v2/tokens', { key: project.secretKey, body: { userExternalId: 'bob' } });
    const asBob = await get(created.body.id, bob.body.token);
    expect(asBob.status).toBe(404);
    expect(asBob.body.error.code).toBe('order_not_found');
    const alice = await server.request('POST', '/api/v2/tokens', { key: project.secretKey, body: { userExternalId: 'alice' } });
    expect((await get(created.body.id, alice.body.token)).status).toBe(200);
  });
});
