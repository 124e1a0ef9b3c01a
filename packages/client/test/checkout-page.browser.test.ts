import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { browserTestsRun, launchChromium } from './helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, type Child } from './helpers/child.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';

const OUTPUT = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const example = fileURLToPath(new URL('../../../examples/checkout/server.mjs', import.meta.url));
const runs = browserTestsRun('Chromium browser test');

/** The checkout example in a real Chromium, as a customer sees it. */
describe.skipIf(!runs)('checkout page in Chromium', () => {
  let ordercast: Ordercast;
  let checkout: Child;
  let checkoutUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    ordercast = await startOrdercast();
    checkout = runNode(example, [], {
      ORDERCAST_URL: ordercast.baseUrl,
      ORDERCAST_SECRET_KEY: ordercast.secretKey,
      ORDERCAST_PUBLISHABLE_KEY: ordercast.publishableKey,
      PORT: '0',
    });
    checkoutUrl = (await checkout.waitFor(/on (http\S+)/))[1] as string;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await checkout?.stop();
    await ordercast?.close();
  });

  it('shows each status of the order in order and stops at the final one', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'shopper-1', amount: '49.90', currency: 'EUR' });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${checkoutUrl}/?order=${order.id}&user=shopper-1`);
    await page.waitForSelector('#status[data-status="AWAITING_PAYMENT_FROM_USER"]');
    // Live over the Socket.IO endpoint, not falling back to polling.
    await page.waitForSelector('#transport:text("(live via socket)")');

    for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) {
      await ordercast.setStatus(order.id, status);
      await page.waitForSelector(`#status[data-status="${status}"]`, { timeout: 15_000 });
    }
    await page.waitForSelector('#outcome[data-kind="final"]');
    expect(await page.locator('#steps li').allTextContents()).toEqual(['AWAITING_PAYMENT_FROM_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']);
    expect(await page.locator('#outcome').textContent()).toBe('Done: COMPLETED');
    expect(pageErrors).toEqual([]);

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'checkout-page.png') });
    await page.close();
  });

  it('a plain EventSource (no library) follows an order with the user token in ?token=, and stops by itself after the final status (its reconnect gets 204)', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'shopper-3' });
    const token = await ordercast.userToken('shopper-3');
    const page = await browser.newPage();
    await page.goto(`${ordercast.baseUrl}/`);
    await page.evaluate(
      (url) => {
        const w = window as unknown as { seen: string[]; state: number; opens: number };
        w.seen = [];
        w.opens = 0;
        const source = new EventSource(url);
        source.onopen = () => w.opens++;
        source.addEventListener('order.update', (message) => w.seen.push(`${message.lastEventId}:${JSON.parse(message.data).status}`));
        source.onerror = () => (w.state = source.readyState);
      },
      `${ordercast.baseUrl}/api/v2/orders/${order.id}/stream?token=${encodeURIComponent(token)}`,
    );
    await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.length === 1);
    for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) await ordercast.setStatus(order.id, status);
    // After the final status the server ends the stream; the browser reconnects with Last-Event-ID: 4, gets 204, and closes for good.
    await page.waitForFunction(() => (window as unknown as { state?: number }).state === EventSource.CLOSED, undefined, { timeout: 20_000 });
    expect(await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual([
      '1:AWAITING_PAYMENT_FROM_USER',
      '2:PROCESSING',
      '3:PENDING_DELIVERY',
      '4:COMPLETED',
    ]);
    await page.close();
  });

  it('follows the order over Server-Sent Events when WebSockets are blocked', async () => {
    const order = await ordercast.createOrder({ userExternalId: 'shopper-2', amount: '12.00', currency: 'EUR' });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A network that blocks WebSockets: every ws:// connection is closed before it says anything.
    let blockedSockets = 0;
    await page.routeWebSocket(/.*/, (ws) => {
      blockedSockets++;
      void ws.close({ code: 1008, reason: 'blocked' });
    });
    const streams: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/stream')) streams.push(request.url());
    });
    await page.goto(`${checkoutUrl}/?order=${order.id}&user=shopper-2`);
    await page.waitForSelector('#status[data-status="AWAITING_PAYMENT_FROM_USER"]');
    // The SDK's auto fallback: not the socket, not polling, but the SSE stream.
    await page.waitForSelector('#transport:text("(live via sse)")', { timeout: 15_000 });

    for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) {
      await ordercast.setStatus(order.id, status);
      await page.waitForSelector(`#status[data-status="${status}"]`, { timeout: 15_000 });
    }
    await page.waitForSelector('#outcome[data-kind="final"]');
    expect(await page.locator('#steps li').allTextContents()).toEqual(['AWAITING_PAYMENT_FROM_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']);
    expect(blockedSockets).toBeGreaterThan(0);
    expect(streams.length).toBeGreaterThan(0);
    // The user token travels in the Authorization header, never in the stream's URL.
    expect(streams.some((url) => url.includes('token='))).toBe(false);
    expect(pageErrors).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT, 'checkout-page-sse.png') });
    await page.close();
  });
});
