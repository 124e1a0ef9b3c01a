import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsRun, launchChromium } from '../../client/test/helpers/chromium.js';
import { createOrder, setStatus } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const OUTPUT = fileURLToPath(new URL('../../../test-output/buyer-page/', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const runs = browserTestsRun('buyer page browser test');

/** axe-core's serious and critical violations, evaluated through the devtools protocol (the page's CSP allows no script of ours). */
async function seriousViolations(page: Page): Promise<Array<{ id: string; impact: string; nodes: number }>> {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> } })
      .axe;
    return (await axe.run(document)).violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The hosted status page (`/o/{token}`) in a real Chromium, with JavaScript off and on. */
describe.skipIf(!runs)('the buyer page in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let secretKey: string;
  const foreignRequests: string[] = [];
  const consoleErrors: string[] = [];

  const linkFor = async (orderId: string): Promise<string> => {
    const res = await server.request('POST', `/api/v2/orders/${orderId}/links`, { key: secretKey });
    expect(res.status).toBe(201);
    return res.body.url as string;
  };

  const watch = (page: Page) => {
    page.on('request', (request) => {
      if (!request.url().startsWith(server.baseUrl)) foreignRequests.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    return page;
  };

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    server = await startTestServer('sqlite');
    const project = await server.createProject('onramp', 'Northwind Crypto');
    secretKey = project.secretKey;
    const branding = await server.request('PATCH', '/api/v2/project/branding', {
      key: secretKey,
      body: {
        displayName: 'Northwind',
        accentColor: '#1f5fbf',
        supportUrl: 'https://help.northwind.example/orders',
        supportEmail: 'support@northwind.example',
        publicMetadataKeys: ['network'],
      },
    });
    expect(branding.status).toBe(200);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows status, progress, history and the last update with JavaScript off', async () => {
    const orderId = await createOrder(server, secretKey, { amount: '250.00', currency: 'EUR', metadata: { network: 'Bitcoin', note: 'internal-note-31337' } });
    await setStatus(server, secretKey, orderId, 'PROCESSING');
    const url = await linkFor(orderId);
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 375, height: 800 } });
    try {
      const page = watch(await context.newPage());
      const response = await page.goto(url);
      expect(response?.status()).toBe(200);
      await expect(page.locator('h1').textContent()).resolves.toBe('Processing');
      const steps = await page.locator('#oc-steps li').allTextContents();
      expect(steps).toHaveLength(5);
      expect(steps[2]).toContain('Processing');
      expect(await page.locator('#oc-steps li[aria-current="step"]').textContent()).toContain('Processing');
      const history = await page.locator('#oc-timeline li').allTextContents();
      expect(history[0]).toContain('Processing');
      expect(history[1]).toContain('Awaiting payment');
      expect(await page.locator('#oc-updated').textContent()).toMatch(/UTC$/);
      expect(await page.locator('.facts').textContent()).toContain('250.00 EUR');
      expect(await page.locator('.facts').textContent()).toContain('Bitcoin');
      expect(await page.content()).not.toContain('internal-note-31337');
    } finally {
      await context.close();
    }
  });

  it('goes live over SSE: a status change reaches the open page within a second, and is announced', async () => {
    const orderId = await createOrder(server, secretKey);
    const url = await linkFor(orderId);
    const page = watch(await browser.newPage({ viewport: { width: 1280, height: 900 } }));
    try {
      await page.goto(`${url}?lang=de`);
      await page.waitForFunction(() => document.getElementById('oc-live')?.textContent === 'Live');
      expect(await page.locator('h1').textContent()).toBe('Zahlung ausstehend');
      await setStatus(server, secretKey, orderId, 'PROCESSING');
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'In Bearbeitung', undefined, { timeout: 1000 });
      const announced = await page.evaluate(() => [...document.querySelectorAll('[aria-live]')].map((el) => el.textContent).join(' | '));
      expect(announced).toContain('Status: In Bearbeitung');
      expect(await page.locator('#oc-timeline li').count()).toBe(2);
      await setStatus(server, secretKey, orderId, 'COMPLETED');
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Abgeschlossen', undefined, { timeout: 1000 });
      expect(await page.locator('#oc-steps li.reached').count()).toBe(5);
    } finally {
      await page.close();
    }
  });

  it('falls back to polling status.json when the stream cannot connect', async () => {
    const orderId = await createOrder(server, secretKey);
    const url = await linkFor(orderId);
    const page = watch(await browser.newPage());
    try {
      // As a proxy that refuses streams would.
      await page.route('**/events*', (route) => route.abort());
      const polled: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes('/status.json')) polled.push(request.url());
      });
      await page.goto(url);
      await page.waitForFunction(() => document.getElementById('oc-live')?.textContent === 'Live', undefined, { timeout: 20_000 });
      await setStatus(server, secretKey, orderId, 'PROCESSING');
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Processing', undefined, { timeout: 20_000 });
      expect(polled.length).toBeGreaterThan(0);
    } finally {
      await page.close();
      consoleErrors.length = 0; // the aborted streams are logged by Chromium, as they should be
    }
  });

  it('a revoked link turns the open page into the 410 page', async () => {
    const orderId = await createOrder(server, secretKey);
    const url = await linkFor(orderId);
    const page = watch(await browser.newPage());
    try {
      await page.goto(url);
      await page.waitForFunction(() => document.getElementById('oc-live')?.textContent === 'Live');
      await server.request('DELETE', `/api/v2/orders/${orderId}/links`, { key: secretKey });
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'This link is no longer valid', undefined, { timeout: 20_000 });
      const reloaded = await page.goto(url);
      expect(reloaded?.status()).toBe(410);
      expect(await seriousViolations(page)).toEqual([]);
      await page.setViewportSize({ width: 375, height: 640 });
      await page.screenshot({ path: `${OUTPUT}revoked-375.png` });
    } finally {
      await page.close();
      consoleErrors.length = 0; // the 410 answer is logged by Chromium
    }
  });

  it("the dashboard's project page sets the branding, and refuses a javascript: URL with the server's message", async () => {
    const page = watch(await browser.newPage({ viewport: { width: 1280, height: 900 } }));
    try {
      await page.goto(`${server.baseUrl}/dashboard/project#key=${secretKey}`);
      const name = page.getByLabel('Display name');
      await page.waitForFunction(() => (document.getElementById('branding-displayName') as HTMLInputElement | null)?.value === 'Northwind');
      await page.getByLabel('Support URL').fill('javascript:alert(1)');
      await page.getByRole('button', { name: 'Save branding' }).click();
      await page.getByText('supportUrl: must be an http or https URL').waitFor();
      await page.getByLabel('Support URL').fill('https://help.northwind.example/orders');
      await name.fill('Northwind Shop');
      await page.getByRole('button', { name: 'Save branding' }).click();
      await page.getByText('Saved: links show it from their next load.').waitFor();
      const stored = await server.request('GET', '/api/v2/project/branding', { key: secretKey });
      expect(stored.body).toMatchObject({
        displayName: 'Northwind Shop',
        supportUrl: 'https://help.northwind.example/orders',
        publicMetadataKeys: ['network'],
      });
    } finally {
      await page.close();
      consoleErrors.length = 0; // the refused PATCH is logged by Chromium
    }
  });

  it('fits 375 px and 1280 px (screenshots), passes axe-core, and every control is reachable by keyboard', async () => {
    const orderId = await createOrder(server, secretKey, { amount: '1250.00', currency: 'EUR', metadata: { network: 'Lightning' } });
    await setStatus(server, secretKey, orderId, 'PAYMENT_DONE_MARKED_BY_USER');
    await setStatus(server, secretKey, orderId, 'PROCESSING');
    const url = await linkFor(orderId);
    for (const width of [375, 1280]) {
      const page = watch(await browser.newPage({ viewport: { width, height: width < 500 ? 812 : 900 } }));
      try {
        await page.goto(url);
        await page.waitForFunction(() => document.getElementById('oc-live')?.textContent === 'Live');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).toBeLessThanOrEqual(0);
        await page.screenshot({ path: `${OUTPUT}status-page-${width}.png`, fullPage: true });

        expect(await seriousViolations(page)).toEqual([]);

        // Tab from the top: every link and control comes into focus, each visibly.
        const focusable = await page.evaluate(
          () => document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])').length,
        );
        expect(focusable).toBeGreaterThanOrEqual(2);
        const reached = new Set<string>();
        for (let i = 0; i < focusable + 2; i++) {
          await page.keyboard.press('Tab');
          const focused = await page.evaluate(() => {
            const el = document.activeElement as HTMLElement | null;
            if (!el || el === document.body) return undefined;
            const style = getComputedStyle(el);
            return { key: `${el.tagName}:${el.getAttribute('href')}`, outlined: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
          });
          if (focused) {
            reached.add(focused.key);
            expect(focused.outlined, focused.key).toBe(true);
          }
        }
        expect(reached).toEqual(new Set(['A:https://help.northwind.example/orders', 'A:mailto:support@northwind.example']));
      } finally {
        await page.close();
      }
    }
    expect(foreignRequests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
