import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsRun, launchChromium } from '../../client/test/helpers/chromium.js';
import { serverApi } from './helpers/server-api.js';
import { runCli, startServerProcess, type ServerProcess } from '../../server/test/helpers/server-process.js';

const OUTPUT = fileURLToPath(new URL('../../../test-output/dashboard/', import.meta.url));
const runs = browserTestsRun('dashboard sign-in link browser test');

/**
 * Team sign-in without the secret key, in a real Chromium against a real `ordercast serve`:
 * a one-time viewer link, what the viewer sees and may do, and the audit log of it all.
 */
describe.skipIf(!runs)('dashboard sign-in links in Chromium', () => {
  let server: ServerProcess;
  let dataDir: string;
  let browser: Browser;
  let projectId: string;
  let secretKey: string;
  let secretKeyId: string;
  let viewer: BrowserContext;
  let viewerPage: Page;
  let viewerSessionId: string;
  let otherSite: http.Server;
  let pageErrors: string[] = [];

  const api = serverApi(
    () => server.baseUrl,
    () => secretKey,
  );

  function cli(args: string[]) {
    const result = runCli([...args, '--data-dir', dataDir]);
    if (result.code !== 0) throw new Error(`ordercast ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  function dashboardLink(role: 'viewer' | 'operator'): { id: string; url: string } {
    return JSON.parse(cli(['dashboard-link', '--project', projectId, '--role', role, '--expires', '8h', '--url', `${server.baseUrl}/dashboard`, '--json']));
  }

  async function newPage(context: BrowserContext): Promise<Page> {
    const p = await context.newPage();
    p.on('pageerror', (error) => pageErrors.push(error.message));
    return p;
  }

  function orderRow(p: Page, orderId: string) {
    return p.locator(`tr[data-order-id="${orderId}"]`);
  }

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-dashboard-links-'));
    server = await startServerProcess(['--data-dir', dataDir], { ORDERCAST_RATE_LIMIT: '0' });
    const created = JSON.parse(cli(['projects', 'create', '--name', 'Team shop', '--lifecycle', 'onramp', '--json']));
    projectId = created.id;
    secretKey = created.secretKey;
    browser = await launchChromium();
    // A page on another port of the same host: the same site to the browser (SameSite lets the cookie go), another origin.
    otherSite = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => otherSite.listen(0, '127.0.0.1', resolve));
  });

  afterEach(() => {
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((resolve) => otherSite?.close(resolve));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs a viewer in from a one-time link, in an HttpOnly SameSite=Strict cookie, and shows the orders live', async () => {
    const first = await api('POST', '/api/v2/orders', { externalId: 'team-1', userExternalId: 'user-1', amount: '10.00', currency: 'EUR' });
    secretKeyId = (await api('GET', `/api/v2/orders/${first.id}/events`)).data[0].actor.id;
    const link = dashboardLink('viewer');
    viewerSessionId = link.id;
    expect(link.url).toMatch(/#link=dl_/);
    viewer = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    viewerPage = await newPage(viewer);
    await viewerPage.goto(link.url);
    await orderRow(viewerPage, first.id).waitFor();
    // The link left the address bar, nothing is in the tab's storage, and scripts cannot read the cookie.
    expect(viewerPage.url()).toBe(`${server.baseUrl}/dashboard`);
    expect(await viewerPage.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie])).toEqual([0, 0, '']);
    const [cookie] = await viewer.cookies(server.baseUrl);
    expect(cookie).toMatchObject({ name: 'ordercast_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await viewerPage.getByTestId('session-role').textContent()).toBe('Viewer');
    await viewerPage.locator('.connection[data-state="live"]').waitFor();

    await api('POST', `/api/v2/orders/${first.id}/status`, { status: 'PROCESSING', reason: 'paid' });
    await orderRow(viewerPage, first.id).locator('[data-status="PROCESSING"]').waitFor({ timeout: 10_000 });
    const second = await api('POST', '/api/v2/orders', { externalId: 'team-2', userExternalId: 'user-2', amount: '20.00', currency: 'EUR' });
    await orderRow(viewerPage, second.id).waitFor({ timeout: 10_000 });
    await viewerPage.screenshot({ path: path.join(OUTPUT, 'viewer-orders.png'), fullPage: true });
  });

  it('refuses the same link a second time, and signs nobody in', async () => {
    const context = await browser.newContext();
    const p = await newPage(context);
    const link = dashboardLink('viewer');
    await p.goto(link.url);
    await p.locator('tr[data-order-id]').first().waitFor();
    const again = await newPage(await browser.newContext());
    await again.goto(link.url);
    const alert = again.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('already used, revoked, or has expired');
    expect(await again.context().cookies(server.baseUrl)).toEqual([]);
    await again.context().close();
    await context.close();
  });

  it('hides the controls that change things from a viewer, and the server refuses them anyway', async () => {
    const [order] = (await api('GET', '/api/v2/orders?externalId=team-1')).data;
    await orderRow(viewerPage, order.id).getByRole('link').click();
    await viewerPage.getByRole('heading', { name: 'team-1' }).waitFor();
    await viewerPage.getByTestId('viewer-note').waitFor();
    expect(await viewerPage.getByRole('button', { name: 'Move' }).count()).toBe(0);
    expect(await viewerPage.getByLabel('Next status').count()).toBe(0);
    // The timeline says who made each change.
    expect(await viewerPage.locator('.timeline tr[data-version="2"]').textContent()).toContain(`secret key ${secretKeyId}`);

    await api('POST', '/api/v2/webhook-endpoints', { url: 'https://example.com/hooks' });
    await viewerPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await viewerPage.locator('[data-endpoint-id]').waitFor();
    for (const name of ['Send test', 'Edit', 'Disable', 'Rotate secret', 'Delete', 'Recover', 'Add endpoint']) {
      expect(await viewerPage.getByRole('button', { name, exact: true }).count()).toBe(0);
    }

    // The page's own script, with the cookie, the session's CSRF token and its origin: still refused for a viewer.
    const tried = await viewerPage.evaluate(async (orderId) => {
      const session = await (await fetch('/api/v2/dashboard/session')).json();
      const response = await fetch(`/api/v2/orders/${orderId}/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ordercast-csrf': session.csrfToken },
        body: JSON.stringify({ status: 'COMPLETED' }),
      });
      return { status: response.status, body: await response.json() };
    }, order.id);
    expect(tried.status).toBe(403);
    expect(tried.body.error.message).toContain('viewer');
    expect((await api('GET', `/api/v2/orders/${order.id}`)).status).toBe('PROCESSING');
  });

  it('refuses the session cookie when another origin sends it', async () => {
    const [order] = (await api('GET', '/api/v2/orders?externalId=team-2')).data;
    const operator = await browser.newContext();
    const operatorPage = await newPage(operator);
    await operatorPage.goto(dashboardLink('operator').url);
    await operatorPage.locator('tr[data-order-id]').first().waitFor();
    // A page elsewhere sends "simple" requests (no preflight), so the browser sends them with the cookie:
    // one would sign the operator out, one would move the order. Neither does anything.
    const elsewhere = await newPage(operator);
    await elsewhere.goto(`http://127.0.0.1:${(otherSite.address() as AddressInfo).port}/`);
    const sent = await elsewhere.evaluate(
      async ({ base, orderId }) => {
        const signOut = await fetch(`${base}/api/v2/dashboard/sign-out`, { method: 'POST', mode: 'no-cors', credentials: 'include' });
        const move = await fetch(`${base}/api/v2/orders/${orderId}/status`, {
          method: 'POST',
          mode: 'no-cors',
          credentials: 'include',
          headers: { 'content-type': 'text/plain' },
          body: '{"status":"CANCELLED"}',
        });
        return [signOut.type, move.type];
      },
      { base: server.baseUrl, orderId: order.id },
    );
    expect(sent).toEqual(['opaque', 'opaque']);
    expect((await api('GET', `/api/v2/orders/${order.id}`)).status).toBe('AWAITING_PAYMENT_FROM_USER');
    const sessions = await api('GET', '/api/v2/dashboard-sessions');
    expect(sessions.data.filter((s: { status: string; role: string }) => s.role === 'operator').map((s: { status: string }) => s.status)).toEqual(['active']);

    // The operator's own page, still signed in, moves it.
    await orderRow(operatorPage, order.id).getByRole('link').click();
    await operatorPage.getByLabel('Next status').selectOption('PROCESSING');
    await operatorPage.getByRole('button', { name: 'Move' }).click();
    await operatorPage.locator('.timeline tr[data-version="2"]').waitFor();
    expect(await operatorPage.locator('.timeline tr[data-version="2"]').textContent()).toContain('operator session');
    expect(await viewerPage.getByTestId('session-role').count()).toBe(1);
    await operator.close();
  });

  it('shows every change in the audit log with the credential that made it', async () => {
    await viewerPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await viewerPage.locator('tr[data-action="order.status_changed"]').first().waitFor();
    const rows = await viewerPage
      .locator('tr[data-audit-id]')
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-action'), tr.querySelector('[data-field="actor"]')?.textContent ?? '']));
    const actorsOf = (action: string) => rows.filter(([a]) => a === action).map(([, actor]) => actor);
    expect(actorsOf('order.created')).toEqual([`secret key ${secretKeyId}`, `secret key ${secretKeyId}`]);
    expect(actorsOf('order.status_changed')).toHaveLength(2);
    expect(actorsOf('order.status_changed')[0]).toMatch(/^operator session dss_/);
    expect(actorsOf('order.status_changed')[1]).toBe(`secret key ${secretKeyId}`);
    expect(actorsOf('dashboard_session.started')).toContain(`viewer session ${viewerSessionId}`);
    expect(actorsOf('dashboard_link.created').every((actor) => actor === 'CLI')).toBe(true);
    expect(actorsOf('webhook_endpoint.created')).toEqual([`secret key ${secretKeyId}`]);
    // The viewer's refused attempt and the other origin's changed nothing, so nothing of theirs is there.
    expect(rows.filter(([, actor]) => actor === `viewer session ${viewerSessionId}`).map(([action]) => action)).toEqual(['dashboard_session.started']);
    await viewerPage.getByLabel('Action').selectOption('order.status_changed');
    await viewerPage.getByRole('button', { name: 'Filter' }).click();
    await viewerPage.waitForFunction(() =>
      [...document.querySelectorAll('tr[data-audit-id]')].every((tr) => tr.getAttribute('data-action') === 'order.status_changed'),
    );
    expect(await viewerPage.locator('tr[data-audit-id]').count()).toBe(2);
    await viewerPage.screenshot({ path: path.join(OUTPUT, 'audit-log.png'), fullPage: true });
  });

  it('sends the page back to sign-in when its session is revoked, and ends the session on sign-out', async () => {
    const revoked = JSON.parse(cli(['dashboard-sessions', 'revoke', viewerSessionId, '--project', projectId, '--json']));
    expect(revoked.status).toBe('revoked');
    // The page's open long-poll is ended by the server, and the page says why.
    const alert = viewerPage.getByRole('alert');
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.textContent()).toContain('session has ended');
    await viewerPage.reload();
    await viewerPage.getByLabel('Secret key').waitFor();

    const context = await browser.newContext();
    const p = await newPage(context);
    await p.goto(dashboardLink('viewer').url);
    await p.locator('tr[data-order-id]').first().waitFor();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByLabel('Secret key').waitFor();
    expect(await context.cookies(server.baseUrl)).toEqual([]);
    await p.reload();
    await p.getByLabel('Secret key').waitFor();
    // Pasting the secret key still signs in, as the full-access dashboard.
    await p.getByLabel('Secret key').fill(secretKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.locator('tr[data-order-id]').first().waitFor();
    expect(await p.getByTestId('session-role').count()).toBe(0);
    const audit = await api('GET', '/api/v2/audit-log?action=dashboard_session.revoked&action=dashboard_session.signed_out');
    expect(audit.data.map((e: { action: string; actor: { kind: string } }) => [e.action, e.actor.kind])).toEqual([
      ['dashboard_session.signed_out', 'dashboard_session'],
      ['dashboard_session.revoked', 'cli'],
    ]);
    await context.close();
  });
});
