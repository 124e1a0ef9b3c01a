import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../src/domain/actor.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { runCli } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A browser's session: the cookie the sign-in set, and the CSRF token the page holds. */
interface BrowserSession {
  id: string;
  cookie: string;
  csrfToken: string;
  role: string;
}

describe.each(testDialects)('dashboard sign-in links and sessions (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  let origin: string;

  async function link(role: 'viewer' | 'operator', sessionSeconds = 3600, linkSeconds?: number, projectId = project.project.id) {
    return server.app.dashboardSessions.createLink(projectId, { role, sessionSeconds, linkSeconds }, CLI_ACTOR);
  }

  function openLink(token: string, headers: Record<string, string> = { origin }) {
    return server.request('POST', '/api/v2/dashboard/sign-in', { body: { link: token }, headers });
  }

  async function signIn(role: 'viewer' | 'operator', projectId?: string): Promise<BrowserSession> {
    const { token } = await link(role, 3600, undefined, projectId);
    const opened = await openLink(token);
    expect(opened.status).toBe(200);
    const cookie = /^(ordercast_session=[^;]+)/.exec(opened.headers.get('set-cookie') ?? '')?.[1];
    expect(cookie).toBeDefined();
    return { id: opened.body.id, cookie: cookie as string, csrfToken: opened.body.csrfToken, role };
  }

  /** A request as the dashboard page makes it: the cookie, its own Origin, and the CSRF token on writes. */
  function asPage(session: BrowserSession, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
    return server.request(method, path, {
      body,
      headers: { cookie: session.cookie, origin, 'x-ordercast-csrf': session.csrfToken, ...extra },
    });
  }

  beforeAll(async () => {
    server = await startTestServer(dialect);
    origin = server.baseUrl;
    project = await server.createProject('onramp', 'Dashboard shop');
  });

  afterAll(async () => {
    await server?.close();
  });

  it('opens a link once: an HttpOnly, SameSite=Strict cookie (not Secure on loopback http) that reads the project', async () => {
    const { token } = await link('viewer');
    const opened = await openLink(token);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ object: 'dashboard_session', role: 'viewer', projectId: project.project.id });
    expect(opened.body.permissions).toEqual(['orders:read', 'webhooks:read', 'events:read']);
    const setCookie = opened.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^ordercast_session=ds_[A-Za-z0-9]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(setCookie).not.toContain('Secure');
    const cookie = setCookie.split(';')[0] as string;
    const orders = await server.request('GET', '/api/v2/orders', { headers: { cookie } });
    expect(orders.status).toBe(200);
    // The same link again: refused, and no cookie.
    const again = await openLink(token);
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('unauthorized');
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('refuses forged, expired and revoked links with 401 and no session', async () => {
    const forged = await openLink(`dl_${'A'.repeat(40)}`);
    expect(forged.status).toBe(401);
    expect((await openLink('not a link')).status).toBe(401);

    const lapsed = await link('operator');
    await server.app.store.db
      .updateTable('dashboard_sessions')
      .set({ link_expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', lapsed.id)
      .execute();
    const expired = await openLink(lapsed.token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('set-cookie')).toBeNull();

    const revokedLink = await link('operator');
    const revoke = await server.request('DELETE', `/api/v2/dashboard-sessions/${revokedLink.id}`, { key: project.secretKey });
    expect(revoke.status).toBe(200);
    expect(revoke.body.status).toBe('revoked');
    const revoked = await openLink(revokedLink.token);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('set-cookie')).toBeNull();
    const sessions = await server.request('GET', '/api/v2/dashboard-sessions', { key: project.secretKey });
    const statuses = Object.fromEntries(sessions.body.data.map((s: { id: string; status: string }) => [s.id, s.status]));
    expect(statuses[lapsed.id]).toBe('expired');
    expect(statuses[revokedLink.id]).toBe('revoked');
  });

  it('opens a link only from this server’s own page', async () => {
    const { token } = await link('viewer');
    expect((await openLink(token, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await openLink(token, {})).status).toBe(403);
    // Neither attempt used the link up.
    expect((await openLink(token)).status).toBe(200);
  });

  it('refuses a session cookie sent from another origin, and writes without the CSRF token', async () => {
    const operator = await signIn('operator');
    const order = { externalId: 'csrf-1', userExternalId: 'u1' };
    const noToken = await server.request('POST', '/api/v2/orders', { body: order, headers: { cookie: operator.cookie, origin } });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.message).toContain('x-ordercast-csrf');
    const wrongToken = await asPage(operator, 'POST', '/api/v2/orders', order, { 'x-ordercast-csrf': `${operator.csrfToken.slice(0, -1)}x` });
    expect(wrongToken.status).toBe(403);
    const otherOrigin = await asPage(operator, 'POST', '/api/v2/orders', order, { origin: 'https://evil.example' });
    expect(otherOrigin.status).toBe(403);
    const crossSiteRead = await asPage(operator, 'GET', '/api/v2/orders', undefined, { origin: 'https://evil.example' });
    expect(crossSiteRead.status).toBe(403);
    const crossSiteFetch = await asPage(operator, 'GET', '/api/v2/orders', undefined, { 'sec-fetch-site': 'cross-site' });
    expect(crossSiteFetch.status).toBe(403);
    const noOrigin = await server.request('POST', '/api/v2/orders', {
      body: order,
      headers: { cookie: operator.cookie, 'x-ordercast-csrf': operator.csrfToken },
    });
    expect(noOrigin.status).toBe(403);
    // Nothing was written by the refused attempts; the page's own request is.
    expect((await server.request('GET', '/api/v2/orders?externalId=csrf-1', { key: project.secretKey })).body.data).toEqual([]);
    const created = await asPage(operator, 'POST', '/api/v2/orders', order);
    expect(created.status).toBe(201);
    // The page's CSRF token is also what GET /dashboard/session hands back to a reloaded page.
    const current = await asPage(operator, 'GET', '/api/v2/dashboard/session');
    expect(current.body.csrfToken).toBe(operator.csrfToken);
  });

  it('lets a viewer read but not move orders or change endpoints, whatever the page sends', async () => {
    const order = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: { externalId: 'viewer-1', userExternalId: 'u2' } });
    const endpoint = await server.request('POST', '/api/v2/webhook-endpoints', { key: project.secretKey, body: { url: 'https://example.com/hooks' } });
    const viewer = await signIn('viewer');
    expect((await asPage(viewer, 'GET', `/api/v2/orders/${order.body.id}`)).status).toBe(200);
    expect((await asPage(viewer, 'GET', '/api/v2/webhook-endpoints')).status).toBe(200);
    const move = await asPage(viewer, 'POST', `/api/v2/orders/${order.body.id}/status`, { status: 'PROCESSING' });
    expect(move.status).toBe(403);
    expect(move.body.error.message).toContain('viewer');
    expect((await asPage(viewer, 'POST', '/api/v2/orders', { externalId: 'viewer-2' })).status).toBe(403);
    expect((await asPage(viewer, 'PATCH', `/api/v2/webhook-endpoints/${endpoint.body.id}`, { description: 'x' })).status).toBe(403);
    expect((await asPage(viewer, 'DELETE', `/api/v2/webhook-endpoints/${endpoint.body.id}`)).status).toBe(403);
    // Managing sessions is the secret key's, whatever the role.
    expect((await asPage(viewer, 'GET', '/api/v2/dashboard-sessions')).status).toBe(403);
    const operator = await signIn('operator');
    expect((await asPage(operator, 'GET', '/api/v2/dashboard-sessions')).status).toBe(403);
    expect((await server.request('GET', `/api/v2/orders/${order.body.id}`, { key: project.secretKey })).body.version).toBe(1);
  });

  it('ends a session on sign-out and on expiry', async () => {
    const viewer = await signIn('viewer');
    const out = await asPage(viewer, 'POST', '/api/v2/dashboard/sign-out');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await asPage(viewer, 'GET', '/api/v2/orders')).status).toBe(401);

    const { id, token } = await link('operator');
    const opened = await openLink(token);
    const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] as string;
    await server.app.store.db
      .updateTable('dashboard_sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', id)
      .execute();
    const lapsed = await server.request('GET', '/api/v2/orders', { headers: { cookie, origin } });
    expect(lapsed.status).toBe(401);
    expect(lapsed.body.error.message).toContain('expired');
  });

  it('revoking a session refuses its cookie and ends the long-poll it holds open', async () => {
    // A project of its own that never writes: the long-poll can end only by the revocation
    // (or its 25 s wait), never by an event of another test that the follower passes late.
    const quiet = await server.createProject('onramp', 'Quiet shop');
    const viewer = await signIn('viewer', quiet.project.id);
    const started = Date.now();
    const poll = asPage(viewer, 'GET', '/api/v2/events?after=latest&waitForChange=25');
    // The long-poll is waiting: a fresh request of the same session still works meanwhile.
    expect((await asPage(viewer, 'GET', '/api/v2/orders')).status).toBe(200);
    const revoked = await server.request('DELETE', `/api/v2/dashboard-sessions/${viewer.id}`, { key: quiet.secretKey });
    expect(revoked.body.status).toBe('revoked');
    expect((await asPage(viewer, 'GET', '/api/v2/orders')).status).toBe(401);
    const ended = await poll;
    expect({ status: ended.status, events: ended.body?.data?.length, seconds: Math.round((Date.now() - started) / 1000) }).toMatchObject({
      status: 401,
      events: undefined,
    });
    // Ended by the revocation (the watcher re-checks every 2 s), not by the 25 s wait.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await server.request('DELETE', '/api/v2/dashboard-sessions/dss_unknown', { key: project.secretKey })).status).toBe(404);
  });

  it('still signs in with the secret key pasted, which the cookie does not override', async () => {
    const viewer = await signIn('viewer');
    const created = await server.request('POST', '/api/v2/orders', {
      key: project.secretKey,
      body: { externalId: 'pasted-1' },
      headers: { cookie: viewer.cookie },
    });
    expect(created.status).toBe(201);
  });

  it('makes links from the CLI, lists and revokes them', async () => {
    if (dialect !== 'sqlite') return;
    const made = runCli([
      'dashboard-link',
      '--project',
      project.project.id,
      '--role',
      'viewer',
      '--expires',
      '8h',
      '--url',
      `${origin}/dashboard`,
      '--data-dir',
      server.dataDir,
      '--json',
    ]);
    expect(made.code).toBe(0);
    const created = JSON.parse(made.stdout);
    expect(created.url).toMatch(new RegExp(`^${origin}/dashboard#link=dl_[A-Za-z0-9]{40}$`));
    expect(created.sessionSeconds).toBe(8 * 3600);
    const bad = runCli(['dashboard-link', '--project', project.project.id, '--role', 'admin', '--data-dir', server.dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('role must be "viewer" or "operator"');
    const listed = JSON.parse(runCli(['dashboard-sessions', 'list', '--project', project.project.id, '--data-dir', server.dataDir, '--json']).stdout);
    expect(listed.find((s: { id: string }) => s.id === created.id)?.status).toBe('pending');
    const revoked = runCli(['dashboard-sessions', 'revoke', created.id, '--project', project.project.id, '--data-dir', server.dataDir, '--json']);
    expect(JSON.parse(revoked.stdout).status).toBe('revoked');
    expect((await openLink(created.url.split('#link=')[1])).status).toBe(401);
  });
});
