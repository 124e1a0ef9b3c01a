import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../src/domain/actor.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { runCli } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

interface Entry {
  id: string;
  action: string;
  actor: { kind: string; id: string | null; role?: string };
  address: string | null;
  target: { type: string; id: string };
  changes: Record<string, unknown>;
  createdAt: string;
}

describe.each(testDialects)('the audit log (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  let other: CreatedProject;
  let secretKeyId: string;
  let origin: string;
  /** Every secret the project's changes handed out: none may show in the log. */
  const secrets: string[] = [];
  let operator: { id: string; cookie: string; csrfToken: string };
  let orderId: string;
  let endpointId: string;

  async function readAll(query = ''): Promise<Entry[]> {
    const entries: Entry[] = [];
    let cursor: string | null = null;
    do {
      const sep = query ? '&' : '';
      const page: { status: number; body: any } = await server.request('GET', `/api/v2/audit-log?${query}${sep}limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        key: project.secretKey,
      });
      expect(page.status).toBe(200);
      entries.push(...page.body.data);
      expect(page.body.hasMore).toBe(page.body.nextCursor !== null);
      cursor = page.body.nextCursor;
    } while (cursor);
    return entries;
  }

  beforeAll(async () => {
    server = await startTestServer(dialect);
    origin = server.baseUrl;
    project = await server.createProject('onramp', 'Audited shop');
    other = await server.createProject('onramp', 'Another shop');
    secrets.push(project.secretKey, project.publishableKey, project.tokenSecret);
    const key = await server.app.store.db
      .selectFrom('api_keys')
      .select('id')
      .where('project_id', '=', project.project.id)
      .where('kind', '=', 'secret')
      .executeTakeFirstOrThrow();
    secretKeyId = key.id;

    // A backend creates an order and an endpoint with the secret key...
    const order = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: { externalId: 'a-1', userExternalId: 'u1' } });
    orderId = order.body.id;
    const endpoint = await server.request('POST', '/api/v2/webhook-endpoints', {
      key: project.secretKey,
      body: { url: 'https://example.com/hooks', headers: { 'X-Api-Token': 'hdr_secret_value_1' } },
    });
    endpointId = endpoint.body.id;
    secrets.push(endpoint.body.secret, 'hdr_secret_value_1');
    const rotated = await server.request('POST', `/api/v2/webhook-endpoints/${endpointId}/rotate-secret`, { key: project.secretKey, body: {} });
    secrets.push(rotated.body.secret);
    await server.request('PATCH', `/api/v2/webhook-endpoints/${endpointId}`, { key: project.secretKey, body: { description: 'orders feed' } });

    // ...an operator signs in with a link and moves the order...
    const link = await server.app.dashboardSessions.createLink(project.project.id, { role: 'operator', sessionSeconds: 3600 }, CLI_ACTOR);
    secrets.push(link.token);
    const opened = await server.request('POST', '/api/v2/dashboard/sign-in', { body: { link: link.token }, headers: { origin } });
    const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] as string;
    operator = { id: opened.body.id, cookie, csrfToken: opened.body.csrfToken };
    secrets.push(cookie.split('=')[1] as string, operator.csrfToken);
    const moved = await server.request('POST', `/api/v2/orders/${orderId}/status`, {
      body: { status: 'PROCESSING' },
      headers: { cookie, origin, 'x-ordercast-csrf': operator.csrfToken },
    });
    expect(moved.status).toBe(200);
    // ...and deletes the endpoint; the other project writes too, which this log never shows.
    const deleted = await server.request('DELETE', `/api/v2/webhook-endpoints/${endpointId}`, {
      headers: { cookie, origin, 'x-ordercast-csrf': operator.csrfToken },
    });
    expect(deleted.status).toBe(200);
    await server.request('POST', '/api/v2/orders', { key: other.secretKey, body: { externalId: 'b-1' } });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('records each change with its actor and address, newest first, across pages', async () => {
    const entries = await readAll();
    expect(entries.map((e) => e.action)).toEqual([
      'webhook_endpoint.deleted',
      'order.status_changed',
      'dashboard_session.started',
      'dashboard_link.created',
      'webhook_endpoint.updated',
      'webhook_endpoint.secret_rotated',
      'webhook_endpoint.created',
      'order.created',
    ]);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    const byAction = Object.fromEntries(entries.map((e) => [e.action, e]));
    expect(byAction['order.created']).toMatchObject({
      actor: { kind: 'secret_key', id: secretKeyId },
      target: { type: 'order', id: orderId },
      address: '127.0.0.1',
    });
    expect(byAction['order.status_changed']).toMatchObject({
      actor: { kind: 'dashboard_session', id: operator.id, role: 'operator' },
      changes: { status: 'PROCESSING', fromStatus: 'AWAITING_PAYMENT_FROM_USER' },
      address: '127.0.0.1',
    });
    expect(byAction['webhook_endpoint.deleted']).toMatchObject({ actor: { kind: 'dashboard_session', id: operator.id }, target: { id: endpointId } });
    expect(byAction['webhook_endpoint.updated']?.changes).toEqual({ description: 'orders feed' });
    expect(byAction['dashboard_link.created']).toMatchObject({ actor: { kind: 'cli', id: null }, address: null });
  });

  it('says on each order event which credential caused it', async () => {
    const events = await server.request('GET', `/api/v2/orders/${orderId}/events`, { key: project.secretKey });
    expect(events.body.data.map((e: { actor: unknown }) => e.actor)).toEqual([
      { kind: 'secret_key', id: secretKeyId },
      { kind: 'dashboard_session', id: operator.id, role: 'operator' },
    ]);
    // The API shows who, not where from.
    expect(JSON.stringify(events.body)).not.toContain('127.0.0.1');
  });

  it('filters by action, actor, target and time', async () => {
    expect((await readAll('action=order.created&action=webhook_endpoint.deleted')).map((e) => e.action)).toEqual(['webhook_endpoint.deleted', 'order.created']);
    expect((await readAll(`actor=${operator.id}`)).map((e) => e.action)).toEqual([
      'webhook_endpoint.deleted',
      'order.status_changed',
      'dashboard_session.started',
    ]);
    expect((await readAll(`actor=${secretKeyId}`)).map((e) => e.action)).toEqual([
      'webhook_endpoint.updated',
      'webhook_endpoint.secret_rotated',
      'webhook_endpoint.created',
      'order.created',
    ]);
    expect((await readAll('actor=cli')).map((e) => e.action)).toEqual(['dashboard_link.created']);
    expect((await readAll(`target=${orderId}`)).map((e) => e.action)).toEqual(['order.status_changed', 'order.created']);
    const all = await readAll();
    const middle = all[3] as Entry;
    const since = await readAll(`since=${encodeURIComponent(middle.createdAt)}`);
    expect(since.every((e) => e.createdAt >= middle.createdAt)).toBe(true);
    expect(since.map((e) => e.id)).toContain(middle.id);
    const until = await readAll(`until=${encodeURIComponent(middle.createdAt)}`);
    expect(until.every((e) => e.createdAt < middle.createdAt)).toBe(true);
    expect(since.length + until.length).toBe(all.length);
    expect(await readAll('since=2999-01-01T00:00:00Z')).toEqual([]);
  });

  it('answers bad filters and cursors with a clear 400', async () => {
    const unknown = await server.request('GET', '/api/v2/audit-log?action=order.deleted', { key: project.secretKey });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.valid).toContain('order.created');
    expect((await server.request('GET', '/api/v2/audit-log?since=yesterday', { key: project.secretKey })).status).toBe(400);
    const cursor = await server.request('GET', '/api/v2/audit-log?cursor=bm9wZQ', { key: project.secretKey });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.code).toBe('invalid_cursor');
    expect((await server.request('GET', '/api/v2/audit-log', { key: project.publishableKey })).status).toBe(403);
  });

  it('keeps projects apart', async () => {
    const theirs = await server.request('GET', '/api/v2/audit-log', { key: other.secretKey });
    expect(theirs.body.data.map((e: Entry) => e.action)).toEqual(['order.created']);
  });

  it('carries the actor through a batch write too', async () => {
    const batch = await server.request('POST', '/api/v2/orders/batch', {
      body: { items: [{ kind: 'create', body: { externalId: 'batch-1' } }] },
      headers: { cookie: operator.cookie, origin, 'x-ordercast-csrf': operator.csrfToken },
    });
    expect(batch.status).toBe(200);
    const created = batch.body.data[0].body;
    const events = await server.request('GET', `/api/v2/orders/${created.id}/events`, { key: project.secretKey });
    expect(events.body.data[0].actor).toEqual({ kind: 'dashboard_session', id: operator.id, role: 'operator' });
    const entries = await readAll(`target=${created.id}`);
    expect(entries.map((e) => [e.action, e.actor.id])).toEqual([['order.created', operator.id]]);
  });

  it('never holds a secret: keys, signing secrets, custom header values, links, cookies, CSRF tokens', async () => {
    if (dialect === 'sqlite') {
      const rotatedKey = runCli(['projects', 'rotate-key', '--project', project.project.id, '--kind', 'publishable', '--data-dir', server.dataDir, '--json']);
      expect(rotatedKey.code).toBe(0);
      secrets.push(JSON.parse(rotatedKey.stdout).key);
      const rotatedToken = runCli([
        'projects',
        'rotate-key',
        '--project',
        project.project.id,
        '--kind',
        'token',
        '--grace',
        '60',
        '--data-dir',
        server.dataDir,
        '--json',
      ]);
      secrets.push(JSON.parse(rotatedToken.stdout).tokenSecret);
      const endpoint = runCli([
        'webhooks',
        'endpoints',
        'create',
        '--project',
        project.project.id,
        '--url',
        'https://example.com/cli',
        '--data-dir',
        server.dataDir,
        '--json',
      ]);
      expect(endpoint.code).toBe(0);
      const created = JSON.parse(endpoint.stdout);
      secrets.push(created.secret);
      expect(runCli(['webhooks', 'endpoints', 'delete', created.id, '--project', project.project.id, '--data-dir', server.dataDir]).code).toBe(0);
    }
    const entries = await readAll();
    if (dialect === 'sqlite') {
      expect(entries.slice(0, 4).map((e) => [e.action, e.actor.kind])).toEqual([
        ['webhook_endpoint.deleted', 'cli'],
        ['webhook_endpoint.created', 'cli'],
        ['token_secret.rotated', 'cli'],
        ['api_key.rotated', 'cli'],
      ]);
    }
    expect(entries.find((e) => e.action === 'webhook_endpoint.created' && e.actor.kind === 'secret_key')?.changes.headers).toBe('[redacted]');
    const rows = await server.app.store.db.selectFrom('audit_log').selectAll().execute();
    const events = await server.app.store.db.selectFrom('order_events').select('actor').execute();
    const everything = JSON.stringify([entries, rows, events]);
    expect(secrets.length).toBeGreaterThanOrEqual(9);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
