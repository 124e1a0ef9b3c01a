import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { runCli } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { webhookApi } from './helpers/webhook-api.js';
import { startReceiver } from './helpers/webhook-receiver.js';

/** What a new user trips over in the first hour (issue 17), each as they would try it. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const readText = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

describe.each(testDialects)('first hour with the API (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  const ids: Record<'fresh' | 'paid' | 'done', string> = { fresh: '', paid: '', done: '' };

  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true' });
    project = await server.createProject('store');
    const api = webhookApi(server, project);
    for (const kind of ['fresh', 'paid', 'done'] as const) ids[kind] = (await api.createOrder({ userExternalId: 'u-1' })).id;
    await api.transition(ids.paid, 'paid');
    await api.transition(ids.done, 'paid');
    await api.transition(ids.done, 'done');
  });
  afterAll(() => server?.close());

  const list = (query: string) => server.request('GET', `/api/v2/orders?${query}`, { key: project.secretKey });

  it('lists orders in any of several statuses with ?status=A&status=B, and one status as before', async () => {
    const both = await list('status=new&status=paid');
    expect(both.status).toBe(200);
    expect(both.body.data.map((o: { id: string }) => o.id).sort()).toEqual([ids.fresh, ids.paid].sort());
    const one = await list('status=done');
    expect(one.body.data.map((o: { id: string }) => o.id)).toEqual([ids.done]);
    const paged = await list('status=new&status=paid&status=done&limit=2');
    expect(paged.body.data).toHaveLength(2);
    const rest = await list(`status=new&status=paid&status=done&limit=2&cursor=${encodeURIComponent(paged.body.nextCursor)}`);
    expect([...paged.body.data, ...rest.body.data].map((o: { id: string }) => o.id).sort()).toEqual(Object.values(ids).sort());
  });

  it('names the status that is not in the lifecycle, and refuses too many', async () => {
    const unknown = await list('status=paid&status=shipped');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_status', details: { status: 'shipped' } });
    const many = await list(Array.from({ length: 33 }, () => 'status=paid').join('&'));
    expect(many.status).toBe(400);
    expect(many.body.error.code).toBe('validation_failed');
  });

  it('signs with every secret in its grace period: three signatures after two quick rotations', async () => {
    const receiver = await startReceiver();
    try {
      const api = webhookApi(server, project);
      const endpoint = await api.createEndpoint(receiver.url);
      const second = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/rotate-secret`, { graceSeconds: 600 });
      const third = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/rotate-secret`, { graceSeconds: 600 });
      await api.createOrder();
      const [delivery] = await receiver.waitForCount(1);
      const signatures = String(delivery!.headers['webhook-signature']).split(' ');
      expect(signatures).toHaveLength(3);
      // Each of the three secrets alone verifies the delivery, as docs/webhooks.md says.
      for (const secret of [endpoint.secret, second.body.secret, third.body.secret]) {
        expect(() => new Webhook(secret).verify(delivery!.body, delivery!.headers as Record<string, string>)).not.toThrow();
      }
    } finally {
      await receiver.close();
    }
  });
});

describe('first hour: the rate limit the README states is the one sent', () => {
  let server: TestServer;
  let project: CreatedProject;
  const readme = readText('README.md');
  const rate = Number(/\| `ORDERCAST_RATE_LIMIT` \| `(\d+)` \|/.exec(readme)?.[1]);
  const burst = Number(/\| `ORDERCAST_RATE_LIMIT_BURST` \| twice the rate \|[^|]*`RateLimit-Limit`[^|]*\(`(\d+)` by default\)/.exec(readme)?.[1]);

  beforeAll(async () => {
    // The README's default rate, and the burst left to its default.
    server = await startTestServer('sqlite', { ORDERCAST_RATE_LIMIT: String(rate) });
    project = await server.createProject('store');
  });
  afterAll(() => server?.close());

  it('sends RateLimit-Limit as the burst the README gives, twice the rate', async () => {
    expect(rate).toBe(100);
    expect(burst).toBe(2 * rate);
    const answer = await server.request('GET', '/api/v2/orders', { key: project.secretKey });
    expect(answer.headers.get('ratelimit-limit')).toBe(String(burst));
    expect(answer.headers.get('ratelimit-remaining')).toBe(String(burst - 1));
  });
});

describe('first hour on the command line', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-first-hour-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir], { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'false' });
  const json = (...args: string[]) => {
    const result = cli(...args, '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };

  it('says a lifecycle file was not found, and calls a mistyped preset unknown', () => {
    const missing = cli('projects', 'create', '--name', 'Parcels', '--lifecycle', 'missing.json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('missing.json: file not found');
    expect(missing.stderr).not.toContain('Unknown lifecycle');
    const typo = cli('projects', 'create', '--name', 'Shop', '--lifecycle', 'stroe');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('Unknown lifecycle "stroe": use onramp or store, or the path of a JSON file');
  });

  it('ordercast orders list: newest first, filtered by statuses, paged', () => {
    const project = json('projects', 'create', '--name', 'Shop', '--lifecycle', 'store');
    const created = [1, 2, 3].map(() => json('orders', 'create', '--project', project.id, '--user', 'u-9'));
    json('orders', 'transition', created[0].id, 'paid', '--project', project.id);
    const newOnes = json('orders', 'list', '--project', project.id, '--status', 'new');
    expect(newOnes.data.map((o: { id: string }) => o.id)).toEqual([created[2].id, created[1].id]);
    const both = json('orders', 'list', '--project', project.id, '--status', 'new', '--status', 'paid', '--limit', '2');
    expect(both).toMatchObject({ hasMore: true });
    const next = json('orders', 'list', '--project', project.id, '--status', 'new', '--status', 'paid', '--cursor', both.nextCursor);
    expect([...both.data, ...next.data].map((o: { id: string }) => o.id)).toEqual([created[2].id, created[1].id, created[0].id]);
    const text = cli('orders', 'list', '--project', project.id, '--limit', '1');
    expect(text.stdout).toMatch(new RegExp(`^${created[2].id}\\s+new\\s+v1 `));
    expect(text.stdout).toContain(`more: --cursor ${both.nextCursor}`.slice(0, 15));
    const unknown = cli('orders', 'list', '--project', project.id, '--status', 'shipped');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error (unknown_status): "shipped" is not a status of the store lifecycle');
  });

  it('ordercast webhooks endpoints create, list and delete, with the same checks as the API', () => {
    const project = json('projects', 'create', '--name', 'Hooks', '--lifecycle', 'store');
    const created = json(
      'webhooks',
      'endpoints',
      'create',
      '--project',
      project.id,
      '--url',
      'https://merchant.example.com/hook',
      '--events',
      'order_paid,order_done',
    );
    expect(created).toMatchObject({ url: 'https://merchant.example.com/hook', enabledEvents: ['order_paid', 'order_done'], disabled: false });
    expect(created.secret).toMatch(/^whsec_/);
    const listed = json('webhooks', 'endpoints', 'list', '--project', project.id);
    expect(listed.map((e: { id: string }) => e.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    const text = cli('webhooks', 'endpoints', 'list', '--project', project.id);
    expect(text.stdout).toContain(`${created.id}  https://merchant.example.com/hook  [order_paid, order_done]  enabled`);

    const loopback = cli('webhooks', 'endpoints', 'create', '--project', project.id, '--url', 'http://127.0.0.1:9/hook');
    expect(loopback.code).toBe(1);
    expect(loopback.stderr).toMatch(/^error \(\w+\): /);
    const badEvent = cli('webhooks', 'endpoints', 'create', '--project', project.id, '--url', 'https://merchant.example.com/x', '--events', 'ORDER_COMPLETED');
    expect(badEvent.code).toBe(1);
    expect(badEvent.stderr).toContain('ORDER_COMPLETED');

    expect(cli('webhooks', 'endpoints', 'delete', created.id, '--project', project.id).stdout).toContain(`deleted ${created.id}`);
    expect(json('webhooks', 'endpoints', 'list', '--project', project.id)).toEqual([]);
    const again = cli('webhooks', 'endpoints', 'delete', created.id, '--project', project.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error (webhook_endpoint_not_found)');
  });
});

describe('first hour in the docs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(() => server?.close());

  it('lists every operation of the OpenAPI document in a route table of docs/ (GET /api/v2/events was missing)', async () => {
    const openapi = (await server.request('GET', '/openapi.json')).body;
    const operations = Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(([route, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${route}`),
    );
    expect(operations).toContain('GET /api/v2/events');
    // Table rows start with `METHOD /path…`; api.md writes paths without the /api/v2 prefix.
    const rows = (file: string) =>
      [...readText(file).matchAll(/^\| `(GET|POST|PATCH|PUT|DELETE) ([^`?]+)[^`]*` \|/gm)].map(
        (m) => `${m[1]} ${m[2]!.startsWith('/api/') ? '' : '/api/v2'}${m[2]}`,
      );
    const docs = readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md'));
    const documented = new Set(docs.flatMap((f) => rows(`docs/${f}`)));
    expect(operations.filter((operation) => !documented.has(operation))).toEqual([]);
  });

  it('names public documents a reader can open, never our private reference documents', () => {
    const files = [
      'README.md',
      'CONTRIBUTING.md',
      'examples/README.md',
      ...readdirSync(path.join(repoRoot, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    for (const file of files) {
      expect(readText(file), file).not.toMatch(/reference (integration guide|document|client|snippet|0\d\d)|reference-0\d\d|reference 0\d\d/i);
    }
  });

  it('describes the subscribe:order acknowledgement in docs/client.md as the server sends it: the order, or { code, message }', () => {
    const client = readText('docs/client.md');
    expect(client).toContain('the ack is the current\norder itself');
    expect(client).not.toContain('`{ order }` or `{ error: { code, message } }`');
  });
});
