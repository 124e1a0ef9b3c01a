import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { rolldown } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsRun, launchChromium } from './helpers/chromium.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { htmlPage, startMerchantSite, type MerchantSite } from './helpers/merchant-site.js';

const OUTPUT = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const REACT_PAGE = fileURLToPath(new URL('./pages/react-order-page.jsx', import.meta.url));
const runs = browserTestsRun('Chromium <ordercast-order-status> test');

const ELEMENT = 'ordercast-order-status';
const part = (name: string) => `${ELEMENT} [part~="${name}"]`;
const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The React page, bundled as a merchant's build would (React's production build, the SDK from its `exports`). */
async function bundleReactPage(): Promise<string> {
  const bundle = await rolldown({
    input: REACT_PAGE,
    platform: 'browser',
    logLevel: 'silent',
    transform: { define: { 'process.env.NODE_ENV': JSON.stringify('production') } },
  });
  const { output } = await bundle.generate({ format: 'esm', minify: true });
  await bundle.close();
  return output[0].code;
}

/** axe-core's serious and critical findings for the whole page, the element's shadow tree included. */
async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (context: Document) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> };
      }
    ).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/** Issue #29, part 3: `<ordercast-order-status>` in the pages a merchant would put it in. */
describe.skipIf(!runs)('<ordercast-order-status> in Chromium', () => {
  let ordercast: Ordercast;
  let site: MerchantSite;
  let browser: Browser;
  let pageCount = 0;

  beforeAll(async () => {
    ordercast = await startOrdercast();
    // What the project's link pages show; the element takes it from the link's routes.
    await ordercast.setBranding({ displayName: 'Northwind Coins', supportUrl: 'https://help.northwind.example/' });
    site = await startMerchantSite();
    site.page('/react-page.js', await bundleReactPage(), 'text/javascript');
    site.page('/react-page.js', await bundleReactPage(), 'text/javascript');
    site.page(
      '/react',
      htmlPage('Ihre Bestellung (React)', '<div id="root"></div>', "import '/react-page.js';").replace('<main>\n<h1>Ihre Bestellung (React)</h1>', '<main>'),
    );
    browser = await launchChromium();
    mkdirSync(OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await ordercast?.close();
  });

  /** A plain HTML page with the element as markup, and the element's script; `requests`: the paths and queries it asked for. */
  async function open(attributes: Record<string, string>, around = { before: '', after: '' }, width = 1280) {
    const route = `/plain-${++pageCount}`;
    const markup = Object.entries(attributes)
      .map(([name, value]) => `${name}="${escapeAttribute(value)}"`)
      .join(' ');
    site.page(route, htmlPage('Your order', `${around.before}<${ELEMENT} ${markup}></${ELEMENT}>${around.after}`, "import '/sdk/element.js';"));
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const pageErrors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => {
      const url = new URL(request.url());
      requests.push(url.pathname + url.search);
    });
    await page.goto(`${site.baseUrl}${route}`);
    return { page, pageErrors, requests };
  }

  async function userAttributes(user: string, extra: Record<string, string> = {}) {
    const order = await ordercast.createOrder({ userExternalId: user, amount: '49.90', currency: 'EUR' });
    const token = await ordercast.userToken(user);
    return { order, attributes: { 'order-id': order.id, token, 'publishable-key': ordercast.publishableKey, 'base-url': ordercast.baseUrl, ...extra } };
  }

  it('with a user token in a plain HTML page: status, progress and timeline, live, and a live region that announces each change', async () => {
    const { order, attributes } = await userAttributes('buyer-plain', {
      steps: 'AWAITING_PAYMENT_FROM_USER PROCESSING PENDING_DELIVERY COMPLETED',
      lang: 'en',
    });
    const { page, pageErrors } = await open(attributes);
    await page.waitForSelector(`${ELEMENT}[data-status="AWAITING_PAYMENT_FROM_USER"]`);
    expect(await page.textContent(part('status'))).toBe('Awaiting payment from user');
    expect(await page.textContent(part('amount'))).toBe('€49.90');
    expect(await page.textContent(`${ELEMENT} [role="status"]`)).toBe('Order status: Awaiting payment from user');
    // The element is a region named "Order status".
    expect(await page.getByRole('region', { name: 'Order status' }).count()).toBe(1);

    await ordercast.setStatus(order.id, 'PROCESSING');
    await page.waitForSelector(`${ELEMENT}[data-status="PROCESSING"]`, { timeout: 15_000 });
    expect(await page.textContent(`${ELEMENT} [role="status"]`)).toBe('Order status: Processing');
    expect(await page.locator(`${part('step-reached')}`).allTextContents()).toEqual(['Awaiting payment from user', 'Processing']);
    expect(await page.getAttribute(part('step-current'), 'aria-current')).toBe('step');
    expect(await page.locator(`${part('event')} span`).allTextContents()).toEqual(['Awaiting payment from user', 'Processing']);

    await ordercast.setStatus(order.id, 'PENDING_DELIVERY');
    await ordercast.setStatus(order.id, 'COMPLETED');
    await page.waitForSelector(`${ELEMENT}[data-state="final"]`, { timeout: 15_000 });
    expect(await page.textContent(part('status'))).toBe('Completed');
    expect(await page.locator(`${part('event')} span`).allTextContents()).toEqual([
      'Awaiting payment from user',
      'Processing',
      'Pending delivery',
      'Completed',
    ]);
    expect(await page.locator(part('step-reached')).count()).toBe(4);
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'element-user-token.png') });
    await page.close();
  });

  it('with an order link the server made, in a plain HTML page on a phone: its German labels, progress, branding and ETA, live over its SSE route, and a clear message once revoked', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'buyer-link', amount: '80.00', currency: 'EUR' });
    const linkToken = await ordercast.orderLink(order.id);
    const { page, pageErrors, requests } = await open({ 'link-token': linkToken, 'base-url': ordercast.baseUrl, lang: 'de' }, { before: '', after: '' }, 375);
    await page.waitForSelector(`${ELEMENT}[data-status="AWAITING_PAYMENT_FROM_USER"]`);
    expect(await page.textContent(part('status'))).toBe('Zahlung ausstehend');
    expect(await page.textContent(part('brand'))).toBe('Northwind Coins');
    expect(await page.getAttribute(part('support'), 'href')).toBe('https://help.northwind.example/');
    // German words of its own; the locale is asked of the link's routes too.
    expect(await page.textContent(part('title'))).toBe('Bestellstatus');
    expect(requests).toContain(`/o/${linkToken}/status.json?lang=de`);
    // The onramp preset's expected durations give the order an ETA, shown beside the last update.
    expect(await page.textContent(part('updated'))).toContain('Voraussichtlich bis');
    await page.waitForSelector(`${ELEMENT}[data-transport="sse"]`, { timeout: 15_000 });

    await ordercast.setStatus(order.id, 'PROCESSING');
    await page.waitForSelector(`${ELEMENT}[data-status="PROCESSING"]`, { timeout: 15_000 });
    expect(await page.textContent(part('status'))).toBe('In Bearbeitung');
    // It came over the stream, not from a poll.
    expect(await page.getAttribute(ELEMENT, 'data-transport')).toBe('sse');
    expect(requests.filter((p) => p.startsWith(`/o/${linkToken}/status.json`))).toHaveLength(1);
    expect(await page.textContent(part('description'))).toBe('Ihre Bestellung wird bearbeitet.');
    expect(await page.textContent(`${ELEMENT} [role="status"]`)).toBe('Bestellstatus: In Bearbeitung');
    // The onramp preset's path; a step the order skipped on its way counts as reached.
    expect(await page.locator(part('step')).allTextContents()).toEqual([
      'Zahlung ausstehend',
      'Zahlung gesendet',
      'In Bearbeitung',
      'Wird gesendet',
      'Abgeschlossen',
    ]);
    expect(await page.locator(part('step-reached')).allTextContents()).toEqual(['Zahlung ausstehend', 'Zahlung gesendet', 'In Bearbeitung']);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'element-link-375.png'), fullPage: true });

    await ordercast.revokeLinks(order.id);
    await page.waitForSelector(`${ELEMENT}[data-error="order_link_revoked"]`, { timeout: 15_000 });
    expect(await page.textContent(part('message'))).toBe('Dieser Link ist nicht mehr gültig.');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('keyboard only: Tab reaches the support link inside the element, and moves on past it', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'buyer-keys' });
    const { page } = await open(
      { 'link-token': await ordercast.orderLink(order.id), 'base-url': ordercast.baseUrl },
      { before: '<button type="button" id="before">Back to shop</button>', after: '<button type="button" id="after">Help</button>' },
    );
    await page.waitForSelector(`${part('support')}:not([hidden])`);
    await page.focus('#before');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.getAttribute('part'))).toBe('support');
    expect(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.textContent)).toBe('Contact support');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('after');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.getAttribute('part'))).toBe('support');
    await page.close();
  });

  it('inside a React 19 page: attributes, the labels property and the update event flow through React, and a prop change restarts it', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'buyer-react' });
    const token = await ordercast.userToken('buyer-react');
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    let sockets = 0;
    page.on('websocket', () => sockets++);
    const query = new URLSearchParams({ order: order.id, token, pk: ordercast.publishableKey, base: ordercast.baseUrl });
    await page.goto(`${site.baseUrl}/react?${query}`);
    await page.waitForSelector(`${ELEMENT}[data-status="AWAITING_PAYMENT_FROM_USER"]`);
    expect(await page.textContent(part('status'))).toBe('Warten auf Zahlung');
    expect(await page.textContent(part('title'))).toBe('Bestellstatus');
    await ordercast.setStatus(order.id, 'PROCESSING');
    await page.waitForSelector('#heard:text("PROCESSING")', { timeout: 15_000 });
    expect(await page.textContent(part('status'))).toBe('In Bearbeitung');
    expect(await page.locator(part('step-reached')).allTextContents()).toEqual(['Warten auf Zahlung', 'In Bearbeitung']);
    // React re-rendered on the event; the element kept its one connection.
    expect(sockets).toBe(1);

    await page.click('button:text("English")');
    await page.waitForSelector(`${part('title')}:text("Order status")`);
    await expect.poll(() => page.textContent(part('status'))).toBe('Processing');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'element-react.png') });
    await page.close();
  });
});
