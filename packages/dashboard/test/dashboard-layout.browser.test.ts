import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsRun, launchChromium } from '../../client/test/helpers/chromium.js';
import { serverApi } from './helpers/server-api.js';
import { runCli, startServerProcess, type ServerProcess } from '../../server/test/helpers/server-process.js';
import { startReceiver, type WebhookReceiver } from '../../server/test/helpers/webhook-receiver.js';

const OUTPUT = fileURLToPath(new URL('../../../test-output/dashboard/', import.meta.url));
const BUILT = fileURLToPath(new URL('../../server/dashboard/index.html', import.meta.url));
const runs = browserTestsRun('dashboard layout browser test');

/** The widths of the issue: a common laptop and a desktop screen. */
const WIDTHS = [1366, 1920];

// Long values as merchants really send them: a status name from a customs lifecycle, a
// courier tracking number with no spaces, a receiver URL with a long path and query.
const LONG_STATUS = 'AWAITING_CUSTOMS_CLEARANCE_AT_DESTINATION_HUB';
const TRACKING = 'JD0146000062812345678901234567890GB-LHR-HUB7-PARCEL-0000000042';
const LONG_REFERENCE = `checkout-${'7'.repeat(90)}`;
const RECEIVER_PATH = `/webhooks/ordercast/${'very-long-path-segment-'.repeat(6)}receiver?tenant=${'t'.repeat(80)}`;

/**
 * The dashboard at 1,366 and 1,920 px with long ids, statuses, reasons, URLs and errors:
 * no page is wider than the window, no text is cut, and the empty states say what is true.
 */
describe.skipIf(!runs)('dashboard layout with long values, in Chromium', () => {
  let server: ServerProcess;
  let dataDir: string;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let secretKey: string;
  let pageErrors: string[] = [];
  const orders: Record<string, { id: string }> = {};
  let failingEndpoint: { id: string; url: string };

  const api = serverApi(
    () => server.baseUrl,
    () => secretKey,
  );

  async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function openAt(width: number, urlPath: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.baseUrl}/dashboard${urlPath}#key=${secretKey}`);
    return page;
  }

  /** Elements whose own content is wider than their box and hidden, or cut with an ellipsis. */
  function clippedText(page: Page): Promise<string[]> {
    return page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((el) => {
          if (el.closest('svg') || !(el instanceof HTMLElement) || el.offsetParent === null) return false;
          const style = getComputedStyle(el);
          const hides = style.overflowX === 'hidden' || style.overflowX === 'clip';
          return (hides || style.textOverflow === 'ellipsis') && el.scrollWidth > el.clientWidth + 1;
        })
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${el.textContent?.slice(0, 80)}`),
    );
  }

  /** The page is no wider than the window, and no text on it is cut. */
  async function expectFits(page: Page, width: number): Promise<void> {
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    expect(await clippedText(page)).toEqual([]);
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error(`the dashboard is not built (${BUILT}): run \`npm run build\` first`);
    mkdirSync(OUTPUT, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-dashboard-layout-'));
    receiver = await startReceiver(() => ({ status: 500, body: `{"error":"${'the receiver could not store the event; '.repeat(4)}"}` }));
    server = await startServerProcess(['--data-dir', dataDir], {
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
      ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0ms,100ms',
      ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
    });
    const lifecycleFile = path.join(dataDir, 'customs.json');
    writeFileSync(
      lifecycleFile,
      JSON.stringify({
        name: 'customs',
        statuses: ['NEW', LONG_STATUS, 'DELIVERED', 'RETURNED_TO_SENDER_AFTER_FAILED_CUSTOMS_INSPECTION'],
        initial: ['NEW'],
        final: ['DELIVERED', 'RETURNED_TO_SENDER_AFTER_FAILED_CUSTOMS_INSPECTION'],
        transitions: { NEW: [LONG_STATUS], [LONG_STATUS]: ['DELIVERED', 'RETURNED_TO_SENDER_AFTER_FAILED_CUSTOMS_INSPECTION'] },
      }),
    );
    secretKey = JSON.parse(
      runCli(['projects', 'create', '--name', 'Customs shop', '--lifecycle', lifecycleFile, '--data-dir', dataDir, '--json']).stdout,
    ).secretKey;

    // Written before any endpoint exists: it has no delivery, and two endpoints are added after it.
    orders.quiet = await api('POST', '/api/v2/orders', { externalId: 'before-the-endpoints', amount: '1.00', currency: 'EUR' });
    failingEndpoint = await api('POST', '/api/v2/webhook-endpoints', {
      url: `${receiver.url.replace(/\/$/, '')}${RECEIVER_PATH}`,
      description: 'Order service',
    });
    await api('POST', '/api/v2/webhook-endpoints', {
      url: `https://receiver-with-a-long-name-for-the-layout-test.example.invalid${RECEIVER_PATH}`,
      description: 'A receiver whose name does not resolve',
    });
    orders.long = await api('POST', '/api/v2/orders', {
      externalId: LONG_REFERENCE,
      userExternalId: `customer-${'c'.repeat(70)}`,
      amount: '1234567.89',
      currency: 'EUR',
      metadata: { courier: 'DHL Express', trackingNumber: TRACKING, parcels: [{ weightKg: 2.5, dimensionsCm: [40, 30, 20] }] },
    });
    await api('POST', `/api/v2/orders/${orders.long!.id}/status`, { status: LONG_STATUS, reason: `handed to the courier, tracking number ${TRACKING}` });
    // Both endpoints give up on both events: one answers 500, the other's name does not resolve.
    await until('the deliveries to fail', async () => {
      const failed = (await api('GET', `/api/v2/webhook-deliveries?orderId=${orders.long!.id}&status=failed`)).data;
      return failed.length === 4 ? failed : undefined;
    });
    browser = await launchChromium();
  });

  afterEach(() => {
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

  for (const width of WIDTHS) {
    it(`shows the orders list whole at ${width} px, and filters it by order id`, async () => {
      const page = await openAt(width, '');
      const row = page.locator(`tr[data-order-id="${orders.long!.id}"]`);
      await row.waitFor();
      expect(await row.locator('[data-status]').textContent()).toBe(LONG_STATUS);
      expect(await row.textContent()).toContain(LONG_REFERENCE);
      await expectFits(page, width);
      await shot(page, `layout-orders-${width}`);

      await page.getByLabel('Order id').fill(orders.quiet!.id);
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForFunction(() => document.querySelectorAll('tr[data-order-id]').length === 1);
      expect(await page.locator('tr[data-order-id]').getAttribute('data-order-id')).toBe(orders.quiet!.id);
      await page.getByLabel('Order id').fill('ord_notInThisProject0000000000');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('No order ord_notInThisProject0000000000 in this project matches these filters.').waitFor();
      await page.close();
    });

    it(`shows an order whole at ${width} px: id with a copy button, status, lifecycle labels, reason, metadata and why its deliveries failed`, async () => {
      const page = await openAt(width, `/orders/${orders.long!.id}`);
      await page.locator('.timeline tr[data-version="2"]').waitFor();
      await page.locator('details[data-delivery-id]').nth(3).waitFor();
      expect(await page.locator('h1').textContent()).toBe(LONG_REFERENCE);
      expect(await page.locator('.facts [data-field="id"]').textContent()).toBe(orders.long!.id);
      expect(await page.locator('.timeline tr[data-version="2"] [data-label="Reason"]').textContent()).toBe(
        `handed to the courier, tracking number ${TRACKING}`,
      );
      expect(await page.locator('.page-head [data-status]').textContent()).toBe(LONG_STATUS);
      // Every label of the lifecycle diagram is the whole status, inside its box.
      const labels = await page.locator('[data-testid="lifecycle-diagram"] g.node').evaluateAll((nodes) =>
        nodes.map((g) => ({
          status: g.getAttribute('data-status'),
          text: g.querySelector('text')?.textContent,
          fits: (g.querySelector('text') as SVGTextElement).getBBox().width <= Number(g.querySelector('rect')?.getAttribute('width')) - 8,
        })),
      );
      for (const label of labels) expect(label).toEqual({ status: label.status, text: label.status, fits: true });
      // And this lifecycle's diagram fits the page: nothing to scroll to.
      expect(await page.locator('.diagram-scroll').evaluate((frame) => frame.scrollWidth <= frame.clientWidth)).toBe(true);
      // Metadata, values shown whole.
      const metadata = page.getByTestId('order-metadata');
      expect(await metadata.locator('[data-key="trackingNumber"] dd').textContent()).toBe(TRACKING);
      expect(await metadata.locator('[data-key="parcels"] dd').textContent()).toBe('[{"weightKg":2.5,"dimensionsCm":[40,30,20]}]');
      // Why each delivery failed, without opening it.
      const failures = await page.locator('details[data-delivery-id] [data-field="delivery-failure"]').allTextContents();
      expect(failures).toHaveLength(4);
      expect(failures.filter((f) => f === 'Failed: HTTP 500')).toHaveLength(2);
      expect(failures.filter((f) => /^Failed: .*ENOTFOUND receiver-with-a-long-name-for-the-layout-test\.example\.invalid/.test(f))).toHaveLength(2);
      expect(await page.locator('details[data-delivery-id][open]').count()).toBe(0);
      await expectFits(page, width);
      await shot(page, `layout-order-${width}`);

      // Opened: the attempt's error and the receiver's answer are whole too.
      await page.locator('details[data-delivery-id]').first().locator('summary').click();
      await page.locator('.attempts-table tbody tr').first().waitFor();
      await expectFits(page, width);
      await page.getByRole('button', { name: `Copy order id ${orders.long!.id}` }).click();
      await page
        .getByRole('button', { name: `Copy order id ${orders.long!.id}` })
        .filter({ hasText: 'Copied' })
        .waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(orders.long!.id);
      await page.close();
    });

    it(`says why an order has no delivery at ${width} px: endpoints added after its last change, not "no endpoint"`, async () => {
      const page = await openAt(width, `/orders/${orders.quiet!.id}`);
      const empty = page.getByTestId('no-deliveries');
      await empty.waitFor();
      expect(await empty.getAttribute('data-reason')).toBe('added-after');
      expect(await empty.textContent()).toContain('2 endpoints are subscribed, added after its last change');
      expect(await empty.textContent()).not.toContain('no webhook endpoint');
      await expectFits(page, width);
      await page.close();
    });

    it(`shows the webhooks page whole at ${width} px: long endpoint URLs, the order of each delivery and why it failed`, async () => {
      const page = await openAt(width, '/webhooks');
      const card = page.locator(`li[data-endpoint-id="${failingEndpoint.id}"]`);
      await card.waitFor();
      expect(await card.locator('.endpoint-url').textContent()).toBe(failingEndpoint.url);
      await page.locator('details[data-delivery-id]').nth(3).waitFor();
      const rows = page.locator(`details[data-delivery-id]:has([data-field="delivery-order"]:text-is("${orders.long!.id}"))`);
      expect(await rows.count()).toBe(4);
      expect(await rows.locator('[data-field="delivery-failure"]').count()).toBe(4);
      await expectFits(page, width);
      await shot(page, `layout-webhooks-${width}`);

      await page.getByLabel('Order id').fill(orders.quiet!.id);
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('No delivery matches.').waitFor();
      await page.close();
    });

    it(`shows the events and project pages whole at ${width} px`, async () => {
      const page = await openAt(width, '/events');
      await page.getByRole('heading', { name: 'Events' }).waitFor();
      const order = await api('POST', '/api/v2/orders', { externalId: `events-${width}` });
      await api('POST', `/api/v2/orders/${order.id}/status`, { status: LONG_STATUS, reason: `customs hold, reference ${TRACKING}` });
      await page.locator('table.events tbody tr').first().locator(`[data-status="${LONG_STATUS}"]`).waitFor({ timeout: 10_000 });
      await expectFits(page, width);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Project' }).click();
      await page.getByRole('heading', { name: 'Customs shop' }).waitFor();
      await expectFits(page, width);
      await shot(page, `layout-project-${width}`);
      await page.close();
    });
  }
});
