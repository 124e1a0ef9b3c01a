import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { browserTestsRun, launchChromium } from '../../client/test/helpers/chromium.js';
import { serverApi } from './helpers/server-api.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerProcess } from '../../server/test/helpers/server-process.js';
import { startReceiver, type WebhookReceiver } from '../../server/test/helpers/webhook-receiver.js';

const OUTPUT = fileURLToPath(new URL('../../../test-output/dashboard/', import.meta.url));
const BUILT = fileURLToPath(new URL('../../server/dashboard/index.html', import.meta.url));
const runs = browserTestsRun('dashboard browser test');
const LIVE_WAIT_MS = 90_000;

/** The dashboard in a real Chromium against a real `ordercast serve` process, as a merchant uses it. */
describe.skipIf(!runs)('dashboard in Chromium', () => {
  let server: ServerProcess;
  let dataDir: string;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let signInLink: string;
  let secretKey: string;
  let page: Page;
  let pageErrors: string[] = [];
  const serverEnv = {
    ORDERCAST_RATE_LIMIT: '0',
    ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
    ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0ms,200ms',
    ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
  };

  const api = serverApi(
    () => server.baseUrl,
    () => secretKey,
  );

  async function newPage(width = 1280, height = 860): Promise<Page> {
    const p = await browser.newPage({ viewport: { width, height } });
    p.on('pageerror', (error) => pageErrors.push(error.message));
    // The page must work under its own Content-Security-Policy: a blocked script or style is a failure.
    p.on('console', (message) => {
      if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) pageErrors.push(message.text());
    });
    return p;
  }

  async function shot(p: Page, name: string, fullPage = true): Promise<void> {
    await p.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage });
  }

  function orderRow(p: Page, orderId: string) {
    return p.locator(`tr[data-order-id="${orderId}"]`);
  }

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error(`the dashboard is not built (${BUILT}): run \`npm run build\` first`);
    mkdirSync(OUTPUT, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-dashboard-'));
    receiver = await startReceiver(() => ({ status: 500, body: '{"error":"receiver is down for maintenance"}' }));
    // Its output is a JSON log, not a terminal, so the server makes no demo project (see
    // packages/server/test/demo-project.test.ts): the project is made with the CLI, beside
    // the running server, and the sign-in link is the one a terminal would have shown.
    server = await startServerProcess(['--data-dir', dataDir], serverEnv);
    const created = runCli(['projects', 'create', '--name', 'Demo shop', '--lifecycle', 'onramp', '--data-dir', dataDir, '--json']);
    secretKey = JSON.parse(created.stdout).secretKey;
    signInLink = `${server.baseUrl}/dashboard#key=${secretKey}`;
    browser = await launchChromium();
  });

  afterEach(() => {
    // Any uncaught error in the page fails the test that caused it.
    const errors = pageErrors;
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs where the dashboard is as a JSON line, with no key in the log', async () => {
    const deadline = Date.now() + 10_000;
    while (!server.output().includes('"dashboardUrl"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(/"dashboardUrl":"([^"]+)"/.exec(server.output())?.[1]).toBe(`${server.baseUrl}/dashboard`);
    expect(server.output()).not.toContain('sk_');
  });

  it('serves the page with a strict CSP, hashed assets cached for good and index.html revalidated', async () => {
    const index = await fetch(`${server.baseUrl}/dashboard`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await index.text();
    const script = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.baseUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${server.baseUrl}/dashboard/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    // Pages of the app are routed by the page itself.
    expect((await fetch(`${server.baseUrl}/dashboard/orders/ord_x`)).status).toBe(200);
  });

  it('refuses a wrong key with a clear message and keeps the user on the sign-in form', async () => {
    const p = await newPage();
    await p.goto(`${server.baseUrl}/dashboard`);
    await p.getByLabel('Secret key').fill(`sk_${'x'.repeat(40)}`);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const alert = p.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('This secret key was refused');
    await p.getByLabel('Secret key').fill(`pk_${'x'.repeat(40)}`);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByText('the dashboard needs the project’s secret key').waitFor();
    expect(await p.evaluate(() => sessionStorage.length)).toBe(0);
    await shot(p, 'sign-in-refused');
    await p.close();
  });

  it('signs in from a link with the key in its fragment, removes the key from the address bar and lists the orders', async () => {
    const first = await api('POST', '/api/v2/orders', { externalId: 'checkout-1001', userExternalId: 'user-7', amount: '25.00', currency: 'EUR' });
    const second = await api('POST', '/api/v2/orders', { externalId: 'checkout-1002', userExternalId: 'user-8', amount: '9.90', currency: 'USD' });
    page = await newPage();
    await page.goto(signInLink);
    await orderRow(page, second.id).waitFor();
    expect(page.url()).toBe(`${server.baseUrl}/dashboard`);
    const ids = await page.locator('tr[data-order-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id')));
    expect(ids).toEqual([second.id, first.id]);
    expect(await orderRow(page, first.id).textContent()).toContain('checkout-1001');
    // The feed's first request can fail while a loaded machine starts things, and its retries
    // back off (live-feed.ts, retryDelay): wait out a few of them rather than 30 s.
    await page.locator('.connection[data-state="live"]').waitFor({ timeout: LIVE_WAIT_MS });
  });

  it('shows a status change and a new order live, without reloading', async () => {
    await page.evaluate(() => ((window as any).notReloaded = true));
    const [newest] = (await api('GET', '/api/v2/orders?limit=1')).data;
    await api('POST', `/api/v2/orders/${newest.id}/status`, { status: 'PROCESSING', reason: 'card authorised' });
    await orderRow(page, newest.id).locator('[data-status="PROCESSING"]').waitFor({ timeout: 10_000 });
    expect(await orderRow(page, newest.id).locator('[data-field="version"]').textContent()).toBe('2');
    const fresh = await api('POST', '/api/v2/orders', { externalId: 'checkout-1003', userExternalId: 'user-9', amount: '120.00', currency: 'EUR' });
    await orderRow(page, fresh.id).waitFor({ timeout: 10_000 });
    expect(await page.locator('tr[data-order-id]').first().getAttribute('data-order-id')).toBe(fresh.id);
    expect(await page.evaluate(() => (window as any).notReloaded)).toBe(true);
    await shot(page, 'orders-live');
  });

  it("opens an order's timeline and moves it to its next status from the page", async () => {
    const [newest] = (await api('GET', '/api/v2/orders?externalId=checkout-1002')).data;
    await orderRow(page, newest.id).getByRole('link').click();
    await page.getByRole('heading', { name: 'checkout-1002' }).waitFor();
    await page.locator('.timeline tr[data-version="2"]').waitFor();
    expect(await page.locator('.timeline tr[data-version="2"]').textContent()).toContain('card authorised');
    expect(await page.locator('[data-testid="lifecycle-diagram"] .node.current').getAttribute('data-status')).toBe('PROCESSING');
    expect(await page.locator('[data-testid="lifecycle-diagram"] .node.next').evaluateAll((n) => n.map((x) => x.getAttribute('data-status')))).toEqual([
      'PENDING_DELIVERY',
      'COMPLETED',
      'FAILED',
      'CANCELLED',
    ]);
    await page.getByLabel('Next status').selectOption('PENDING_DELIVERY');
    await page.getByLabel('Reason (optional)').fill('handed to the courier');
    await page.getByRole('button', { name: 'Move' }).click();
    await page.locator('.timeline tr[data-version="3"]').waitFor();
    expect(await page.locator('.timeline tr[data-version="3"]').textContent()).toContain('handed to the courier');
    expect((await api('GET', `/api/v2/orders/${newest.id}`)).status).toBe('PENDING_DELIVERY');
    await page.locator('[data-testid="lifecycle-diagram"] .node.current[data-status="PENDING_DELIVERY"]').waitFor();
    await shot(page, 'order');
  });

  it('shows a not-found state for an unknown order id in the URL', async () => {
    const p = await newPage();
    await p.goto(`${server.baseUrl}/dashboard/orders/ord_doesNotExist000000000000`);
    // Signed in already: the key is in this tab's sessionStorage only, so a new tab signs in again.
    await p.getByLabel('Secret key').fill(secretKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.locator('[data-testid="order-not-found"]').waitFor();
    expect(await p.locator('[data-testid="order-not-found"]').textContent()).toContain('ord_doesNotExist000000000000');
    await p.getByRole('link', { name: 'Back to the orders' }).click();
    await p.locator('tr[data-order-id]').first().waitFor();
    await p.close();
  });

  it('finds an endpoint and its failed delivery with the attempts, and re-sends it', async () => {
    const endpoint = await api('POST', '/api/v2/webhook-endpoints', { url: receiver.url, description: 'Order service (staging)' });
    const order = await api('POST', '/api/v2/orders', { externalId: 'checkout-2001', userExternalId: 'user-7', amount: '5.00', currency: 'EUR' });
    // The receiver answers 500 to both attempts of the schedule, so the delivery is given up.
    const failed = await (async () => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const [delivery] = (await api('GET', `/api/v2/webhook-deliveries?orderId=${order.id}&status=failed`)).data;
        if (delivery) return delivery;
        if (Date.now() > deadline) throw new Error('the delivery did not fail');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    const card = page.locator(`li[data-endpoint-id="${endpoint.id}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain(receiver.url);
    await card.locator('[data-field="endpoint-state"]:text("failing")').waitFor({ timeout: 10_000 });

    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    const row = page.locator(`details[data-delivery-id="${failed.id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('failed');
    await row.locator('summary').click();
    await row.locator('.attempts-table tbody tr').nth(1).waitFor();
    const attempts = await row.locator('.attempts-table tbody tr').allTextContents();
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) expect(attempt).toContain('500');
    expect(attempts[0]).toContain('receiver is down for maintenance');
    await shot(page, 'webhooks-failed-delivery');

    receiver.setHandler(() => ({ status: 200, body: '{"received":true}' }));
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await row.getByRole('button', { name: /Re-send/ }).click();
    await receiver.waitFor((requests) => requests.some((r) => r.headers['webhook-id'] === failed.id) && requests.length >= 3);
    await page.locator(`details[data-delivery-id="${failed.id}"][data-status="succeeded"]`).waitFor({ timeout: 10_000 });
    await shot(page, 'webhooks');

    // The order's own page lists its deliveries with their attempts too.
    await row.getByRole('link', { name: order.id }).click();
    await page.getByRole('heading', { name: 'checkout-2001' }).waitFor();
    const own = page.locator(`details[data-delivery-id="${failed.id}"][data-status="succeeded"]`);
    await own.waitFor();
    await own.locator('summary').click();
    await own.locator('.attempts-table tbody tr').nth(2).waitFor();
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-order.png') });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('adds, tests, edits, rotates, disables and deletes an endpoint from the page', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    const form = page.getByRole('form', { name: 'Add an endpoint' });
    await form.getByLabel('Endpoint URL').fill(`${receiver.url}?from=dashboard`);
    await form.getByLabel('Description').fill('Added from the dashboard');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('Its signing secret, shown once').waitFor();
    expect(await page.locator('.notice.secret code').textContent()).toMatch(/^whsec_/);
    const endpoint = (await api('GET', '/api/v2/webhook-endpoints')).data.find((e: { description: string }) => e.description === 'Added from the dashboard');
    const card = page.locator(`li[data-endpoint-id="${endpoint.id}"]`);
    await card.waitFor();

    const before = receiver.requests.length;
    await card.getByRole('button', { name: 'Send test' }).click();
    await card.getByText('Test event queued.').waitFor();
    await receiver.waitFor((requests) => requests.slice(before).some((r) => r.path.includes('from=dashboard') && r.body.includes('WEBHOOK_TEST')));

    await card.getByRole('button', { name: 'Edit' }).click();
    await card.getByLabel('Description').fill('Edited from the dashboard');
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByText('Edited from the dashboard').waitFor();

    page.once('dialog', (dialog) => void dialog.accept());
    await card.getByRole('button', { name: 'Rotate secret' }).click();
    await card.locator('.notice.secret code').waitFor();
    expect(await card.locator('.notice.secret code').textContent()).toMatch(/^whsec_/);

    await card.getByRole('button', { name: 'Disable' }).click();
    await card.locator('[data-field="endpoint-state"]:text("disabled")').waitFor();
    expect((await api('GET', `/api/v2/webhook-endpoints/${endpoint.id}`)).disabled).toBe(true);

    page.once('dialog', (dialog) => void dialog.accept());
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.waitFor({ state: 'detached' });
    expect((await api('GET', '/api/v2/webhook-endpoints')).data.map((e: { id: string }) => e.id)).not.toContain(endpoint.id);
  });

  it('streams the project events on the Events page and shows the project with its lifecycle and key prefixes', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    const order = await api('POST', '/api/v2/orders', { externalId: 'checkout-3001', amount: '1.00', currency: 'EUR' });
    const created = page.locator('table.events tbody tr', { hasText: 'checkout-3001' });
    await created.waitFor({ timeout: 10_000 });
    expect(await created.textContent()).toContain('ORDER_CREATED');
    await api('POST', `/api/v2/orders/${order.id}/status`, { status: 'CANCELLED', reason: 'customer changed their mind' });
    await page.locator('table.events tbody tr').first().locator('[data-status="CANCELLED"]').waitFor({ timeout: 10_000 });
    await shot(page, 'events');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Project' }).click();
    await page.getByRole('heading', { name: 'Demo shop' }).waitFor();
    expect(await page.locator('[data-testid="lifecycle-diagram"] .node').count()).toBe(7);
    expect(await page.locator('table.keys').textContent()).toContain(`${secretKey.slice(0, 11)}…`);
    expect(await page.content()).not.toContain(secretKey);
    await shot(page, 'project');
  });

  it('works by keyboard with a visible focus, and fits a 390 px wide screen with long text wrapped', async () => {
    const long = `checkout-${'x'.repeat(180)}`;
    const order = await api('POST', '/api/v2/orders', {
      externalId: long,
      userExternalId: `user-${'y'.repeat(200)}`,
      amount: '123456789.123456',
      currency: 'EUR',
    });
    const phone = await newPage(390, 844);
    await phone.goto(signInLink);
    await orderRow(phone, order.id).waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phone, 'orders-390px');

    await phone.keyboard.press('Tab');
    expect(await phone.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await phone.keyboard.press('Tab');
    expect(await phone.evaluate(() => document.activeElement?.textContent)).toBe('Orders');
    const outline = await phone.evaluate(() => getComputedStyle(document.activeElement as Element).outlineWidth);
    expect(outline).toBe('3px');
    await phone.keyboard.press('Tab');
    expect(await phone.evaluate(() => document.activeElement?.textContent)).toBe('Stuck');
    await phone.keyboard.press('Tab');
    await phone.keyboard.press('Enter');
    await phone.getByRole('heading', { name: 'Webhooks' }).waitFor();

    await phone.goto(`${server.baseUrl}/dashboard/orders/${order.id}`);
    await phone.getByRole('heading', { name: long }).waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phone, 'order-390px');
    await phone.close();
  });

  it('pages through 5,000 orders and shows an order with 500 events whole', async () => {
    // A second project, with a lifecycle that has a cycle, so one order can collect 500 events.
    const lifecycleFile = path.join(dataDir, 'review-lifecycle.json');
    writeFileSync(
      lifecycleFile,
      JSON.stringify({
        name: 'review',
        statuses: ['open', 'held', 'closed'],
        initial: ['open'],
        final: ['closed'],
        transitions: { open: ['held', 'closed'], held: ['open', 'closed'] },
      }),
    );
    const big = JSON.parse(runCli(['projects', 'create', '--name', 'Big shop', '--lifecycle', lifecycleFile, '--data-dir', dataDir, '--json']).stdout);
    const call = async (method: string, urlPath: string, body?: unknown) => {
      const response = await fetch(`${server.baseUrl}${urlPath}`, {
        method,
        headers: { authorization: `Bearer ${big.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    // An empty project says how to fill it.
    const empty = await newPage();
    await empty.goto(`${server.baseUrl}/dashboard#key=${big.secretKey}`);
    const curl = empty.locator('.empty pre.curl');
    await curl.waitFor();
    expect(await curl.textContent()).toContain(`curl -s -X POST ${server.baseUrl}/api/v2/orders`);
    await shot(empty, 'orders-empty');
    await empty.close();

    const busy = await call('POST', '/api/v2/orders', { externalId: 'busy-order' });
    // The 500 changes of one order go one after the other; the 4,999 other orders are written alongside.
    const changes = (async () => {
      for (let i = 0; i < 500; i++)
        await call('POST', `/api/v2/orders/${busy.id}/status`, { status: i % 2 === 0 ? 'held' : 'open', reason: `review ${i + 1}` });
    })();
    let next = 0;
    await Promise.all([
      changes,
      ...Array.from({ length: 64 }, async () => {
        while (next < 4999) {
          const n = next++;
          await call('POST', '/api/v2/orders', { externalId: `bulk-${n}`, amount: '1.00', currency: 'EUR' });
        }
      }),
    ]);

    const p = await newPage();
    await p.goto(`${server.baseUrl}/dashboard#key=${big.secretKey}`);
    await p.locator('tr[data-order-id]').first().waitFor();
    // The pages the API itself hands out, newest first (concurrent writes commit in any order).
    const pages: string[][] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 4; i++) {
      const list = await call('GET', `/api/v2/orders?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages.push(list.data.map((o: { id: string }) => o.id));
      cursor = list.nextCursor;
    }
    const shown = () => p.locator('tr[data-order-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order-id')));
    expect(await shown()).toEqual(pages[0]);
    for (let i = 1; i < 4; i++) {
      await p.getByRole('button', { name: 'Older →' }).click();
      await p.waitForFunction((id) => document.querySelector('tr[data-order-id]')?.getAttribute('data-order-id') === id, pages[i]![0]);
      expect(await shown()).toEqual(pages[i]);
    }
    await p.getByRole('button', { name: '← Newer' }).click();
    await p.waitForFunction((id) => document.querySelector('tr[data-order-id]')?.getAttribute('data-order-id') === id, pages[2]![0]);

    await p.getByLabel('Reference').fill('busy-order');
    await p.getByRole('button', { name: 'Filter' }).click();
    await p.locator(`tr[data-order-id="${busy.id}"]`).getByRole('link').click();
    await p.locator('.timeline tr[data-version="501"]').waitFor({ timeout: 10_000 });
    expect(await p.locator('.timeline tbody tr').count()).toBe(501);
    expect(await p.locator('[data-testid="lifecycle-diagram"] .node.current').getAttribute('data-status')).toBe('open');
    await shot(p, 'order-500-events', false);
    await p.close();
    // Writing 5,500 changes takes seconds on an idle machine; the bound leaves room for a busy one.
  }, 120_000);

  it('shows a banner while the server is away and catches up by itself when it is back', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
    // The feed's first request can fail while a loaded machine starts things, and its retries
    // back off (live-feed.ts, retryDelay): wait out a few of them rather than 30 s.
    await page.locator('.connection[data-state="live"]').waitFor({ timeout: LIVE_WAIT_MS });
    const port = new URL(server.baseUrl).port;
    await server.stop();
    await page.locator('[data-testid="offline-banner"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid="offline-banner"]').textContent()).toContain('Reconnecting');
    await shot(page, 'server-away');

    server = await startServerProcess(['--data-dir', dataDir, '--port', port], serverEnv);
    // With projects in the database, the line is the plain URL: keys are shown only when made.
    const deadline = Date.now() + 10_000;
    while (!server.output().includes('"dashboardUrl"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(/"dashboardUrl":"([^"]+)"/.exec(server.output())?.[1]).toBe(`${server.baseUrl}/dashboard`);
    // Written as soon as the server is back, maybe before the page reconnects: it must not be missed.
    const order = await api('POST', '/api/v2/orders', { externalId: 'after-restart', userExternalId: 'user-1', amount: '3.00', currency: 'EUR' });
    await page.locator('.connection[data-state="live"]').waitFor({ timeout: 20_000 });
    await orderRow(page, order.id).waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid="offline-banner"]').count()).toBe(0);
  });

  it('sends the user back to sign-in with a clear message when the key is rotated, and signs in with the new one', async () => {
    const project = await api('GET', '/api/v2/project');
    const { stdout } = runCli(['projects', 'rotate-key', '--project', project.id, '--kind', 'secret', '--grace', '0', '--data-dir', dataDir, '--json']);
    const newKey = JSON.parse(stdout).key as string;
    // A running server notices a rotation within 5 s (its key cache).
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${server.baseUrl}/api/v2/project`, { headers: { authorization: `Bearer ${secretKey}` } })).status !== 401) {
      if (Date.now() > deadline) throw new Error('the old key still works');
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toContain('no longer works');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await shot(page, 'key-rotated');

    secretKey = newKey;
    await page.getByLabel('Secret key').fill(newKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  });
});
