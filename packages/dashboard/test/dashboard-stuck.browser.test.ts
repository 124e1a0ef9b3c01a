import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsRun, launchChromium } from '../../client/test/helpers/chromium.js';
import { runCli, startServerProcess, type ServerProcess } from '../../server/test/helpers/server-process.js';

const OUTPUT = fileURLToPath(new URL('../../../test-output/dashboard/', import.meta.url));
const runs = browserTestsRun('dashboard stuck-orders browser test');

/** new → paid → done, where an order should be paid within a second. */
const QUICK = {
  name: 'quick',
  statuses: ['new', 'paid', 'done'],
  initial: ['new'],
  final: ['done'],
  transitions: { new: ['paid', 'done'], paid: ['done'] },
  expectedWithin: { new: '1s', paid: '1d' },
};

/** The Stuck view and the marks on lists, in a real Chromium against a real server whose own sweeper flags orders. */
describe.skipIf(!runs)('dashboard: stuck orders', () => {
  let server: ServerProcess;
  let dataDir: string;
  let browser: Browser;
  let secretKey: string;
  const pageErrors: string[] = [];

  async function api<T = any>(method: string, urlPath: string, body?: unknown): Promise<T> {
    const response = await fetch(`${server.baseUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${secretKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${JSON.stringify(json)}`);
    return json as T;
  }

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-dashboard-stuck-'));
    const lifecycleFile = path.join(dataDir, 'quick.json');
    writeFileSync(lifecycleFile, JSON.stringify(QUICK));
    server = await startServerProcess(['--data-dir', dataDir], { ORDERCAST_RATE_LIMIT: '0' });
    const created = runCli(['projects', 'create', '--name', 'Quick shop', '--lifecycle', lifecycleFile, '--data-dir', dataDir, '--json']);
    secretKey = JSON.parse(created.stdout).secretKey;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists stuck orders with how late each is, adds one as it gets stuck, and marks them in the orders list', async () => {
    const waiting = await api('POST', '/api/v2/orders', { externalId: 'slow-1' });
    const moving = await api('POST', '/api/v2/orders', { externalId: 'quick-1' });
    await api('POST', `/api/v2/orders/${moving.id}/status`, { status: 'paid' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.baseUrl}/dashboard/stuck#key=${secretKey}`);
    await page.getByRole('heading', { name: 'Stuck orders' }).waitFor();
    // The server's sweeper flags the waiting order a second after its creation; the open page adds it live.
    const row = page.locator(`tr[data-order-id="${waiting.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('[data-stuck]').textContent()).toMatch(/^Stuck · \d+ s late$/);
    expect(await page.locator(`tr[data-order-id="${moving.id}"]`).count()).toBe(0);
    await page.screenshot({ path: path.join(OUTPUT, 'stuck-orders.png'), fullPage: true });

    // The orders list marks it among the others.
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    await page.locator(`tr[data-order-id="${moving.id}"]`).waitFor();
    expect(await page.locator(`tr[data-order-id="${waiting.id}"] [data-stuck]`).count()).toBe(1);
    expect(await page.locator(`tr[data-order-id="${moving.id}"] [data-stuck]`).count()).toBe(0);

    // Moving on clears the mark, live.
    await api('POST', `/api/v2/orders/${waiting.id}/status`, { status: 'paid' });
    await page.locator(`tr[data-order-id="${waiting.id}"] [data-stuck]`).waitFor({ state: 'detached' });
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
