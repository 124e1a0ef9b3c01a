import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { urlForLog } from '../src/http/log-url.js';
import { startOtlpReceiver } from './helpers/otlp-receiver.js';
import { runCli, startServerProcess } from './helpers/server-process.js';
import { testDialects } from './helpers/databases.js';
import { createOrder, setStatus, waitFor } from './helpers/realtime.js';
import { RecordingEventSource, holdStream, rawStream } from './helpers/sse.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const TOKEN = /^olt_[0-9A-Za-z]{43}$/;

function tokenOf(url: string): string {
  return new URL(url).pathname.slice('/o/'.length);
}

/** `/o/…` of a link URL, on the server under test (the URL names the host the request came to). */
function pathOf(url: string): string {
  return new URL(url).pathname;
}

describe.each(testDialects)('signed order links and the buyer page (%s)', (dialect) => {
  let server: TestServer;
  let secretKey: string;
  let publishableKey: string;
  let projectId: string;

  const makeLink = async (orderId: string, body?: unknown, key = secretKey) => server.request('POST', `/api/v2/orders/${orderId}/links`, { key, body });
  const newLink = async (orderId: string, body?: unknown) => {
    const res = await makeLink(orderId, body);
    expect(res.status).toBe(201);
    return res.body.url as string;
  };

  beforeAll(async () => {
    // The per-address limit of /o/ has a test of its own below; these tests make many requests from one address.
    server = await startTestServer(dialect, { ORDERCAST_LINK_RATE_LIMIT: '0' });
    const created = await server.createProject('onramp', 'Acme internal name');
    secretKey = created.secretKey;
    publishableKey = created.publishableKey;
    projectId = created.project.id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('makes a link with a secret key or a restricted key that writes orders, for 30 days by default and at most a year', async () => {
    const orderId = await createOrder(server, secretKey, { amount: '100.00', currency: 'EUR' });
    const res = await makeLink(orderId);
    expect(res.status).toBe(201);
    expect(res.body.object).toBe('order_link');
    expect(tokenOf(res.body.url)).toMatch(TOKEN);
    expect(res.body.url.startsWith(`${server.baseUrl}/o/`)).toBe(true);
    const days = (Date.parse(res.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const hour = await makeLink(orderId, { expiresIn: 3600 });
    expect(Date.parse(hour.body.expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000);
    expect((await makeLink(orderId, { expiresIn: 366 * 86400 })).body.error.code).toBe('validation_failed');
    expect((await makeLink(orderId, { expiresIn: 'soon' })).status).toBe(400);

    const writer = await server.app.projectKeys.create(projectId, { kind: 'restricted', permissions: ['orders:write'] });
    expect((await makeLink(orderId, undefined, writer.key)).status).toBe(201);
    const reader = await server.app.projectKeys.create(projectId, { kind: 'restricted', permissions: ['orders:read'] });
    expect((await makeLink(orderId, undefined, reader.key)).status).toBe(403);
    expect((await makeLink(orderId, undefined, publishableKey)).status).toBe(403);
    expect((await makeLink('ord_doesnotexist')).body.error.code).toBe('order_not_found');
  });

  it('shows only the public fields: status, timeline, amount and the metadata keys the project lists', async () => {
    const orderId = await createOrder(server, secretKey, {
      amount: '42.50',
      currency: 'USD',
      userExternalId: 'buyer-secret-id-7781',
      externalId: 'internal-ref-5531',
      metadata: { carrier: 'DHL', internalNote: 'fraud-score-high', wallet: 'bc1qxyz' },
    });
    await setStatus(server, secretKey, orderId, 'PROCESSING');
    const brand = await server.request('PATCH', '/api/v2/project/branding', { key: secretKey, body: { publicMetadataKeys: ['carrier'] } });
    expect(brand.status).toBe(200);
    const url = await newLink(orderId);

    const json = await server.request('GET', `${pathOf(url)}/status.json`);
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      object: 'public_order',
      locale: 'en',
      order: { id: orderId, status: 'PROCESSING', version: 2, amount: '42.50', currency: 'USD', metadata: { carrier: 'DHL' } },
      status: { label: 'Processing', final: false, successful: false },
      branding: { displayName: 'Acme internal name' },
    });
    expect(json.body.order.timeline.map((e: { status: string }) => e.status)).toEqual(['AWAITING_PAYMENT_FROM_USER', 'PROCESSING']);
    // The happy path, with what the order passed through marked.
    expect(json.body.progress.steps.map((s: { status: string }) => s.status)).toEqual([
      'AWAITING_PAYMENT_FROM_USER',
      'PAYMENT_DONE_MARKED_BY_USER',
      'PROCESSING',
      'PENDING_DELIVERY',
      'COMPLETED',
    ]);
    expect(json.body.progress.current).toBe(2);
    expect(json.body.progress.steps.map((s: { reached: boolean }) => s.reached)).toEqual([true, true, true, false, false]);
    for (const hidden of ['buyer-secret-id-7781', 'internal-ref-5531', 'fraud-score-high', 'bc1qxyz', 'internalNote', projectId]) {
      expect(json.text).not.toContain(hidden);
    }
    // The onramp preset expects each status to be left in time: the link shows the order's own clock.
    const order = (await server.request('GET', `/api/v2/orders/${orderId}`, { key: secretKey })).body;
    expect(order.eta).toEqual(expect.any(String));
    expect(json.body.order).toMatchObject({ expectedBy: order.expectedBy, eta: order.eta });
    const page = await server.request('GET', pathOf(url));
    expect(page.status).toBe(200);
    expect(page.text).toContain('Processing');
    expect(page.text).toContain('Expected by');
    expect(page.text).toContain(`<time id="oc-eta" datetime="${order.eta}">`);
    expect(page.text).toContain('42.50 USD');
    expect(page.text).toContain('DHL');
    for (const hidden of ['buyer-secret-id-7781', 'internal-ref-5531', 'fraud-score-high', 'bc1qxyz', 'internalNote', projectId]) {
      expect(page.text).not.toContain(hidden);
    }
  });

  it('answers with no-referrer, noindex, no-store, a strict CSP with a nonce, and CORS on the JSON view', async () => {
    const url = await newLink(await createOrder(server, secretKey));
    const page = await server.request('GET', pathOf(url));
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('x-robots-tag')).toMatch(/noindex/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('*');
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    // Every executable script carries this response's nonce; the state is inert JSON.
    const scripts = [...page.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? '');
    expect(scripts.length).toBe(2);
    for (const attributes of scripts) expect(attributes.includes(`nonce="${nonce}"`) || attributes.includes('type="application/json"')).toBe(true);
    // A new nonce on every answer.
    const again = await server.request('GET', pathOf(url));
    expect(again.headers.get('content-security-policy')).not.toBe(csp);

    const json = await server.request('GET', `${pathOf(url)}/status.json`, { headers: { origin: 'https://shop.example' } });
    expect(json.headers.get('access-control-allow-origin')).toBe('*');
    expect(json.headers.get('referrer-policy')).toBe('no-referrer');
    expect(json.headers.get('x-robots-tag')).toMatch(/noindex/);
    expect(json.headers.get('cache-control')).toBe('no-store');
  });

  it('follows Accept-Language, lets ?lang= override it, and falls back to English for anything else, reflecting nothing', async () => {
    const url = await newLink(await createOrder(server, secretKey));
    const german = await server.request('GET', pathOf(url), { headers: { 'accept-language': 'fr;q=0.5, de-CH, en;q=0.1' } });
    expect(german.text).toContain('<html lang="de">');
    expect(german.text).toContain('Zahlung ausstehend');
    const japanese = await server.request('GET', `${pathOf(url)}?lang=ja`, { headers: { 'accept-language': 'de' } });
    expect(japanese.text).toContain('お支払い待ち');
    const brazilian = await server.request('GET', `${pathOf(url)}/status.json?lang=pt`);
    expect(brazilian.body.locale).toBe('pt-BR');
    expect(brazilian.body.status.label).toBe('Aguardando pagamento');
    for (const code of ['es', 'fr']) expect((await server.request('GET', `${pathOf(url)}/status.json?lang=${code}`)).body.locale).toBe(code);

    for (const lang of ['xx', 'a'.repeat(5000), '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', 'de"', '']) {
      const res = await server.request('GET', `${pathOf(url)}?lang=${encodeURIComponent(lang)}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<html lang="en">');
      expect(res.text).toContain('Awaiting payment');
      if (lang.length > 2) expect(res.text).not.toContain(lang);
      const json = await server.request('GET', `${pathOf(url)}/status.json?lang=${encodeURIComponent(lang)}`);
      expect(json.body.locale).toBe('en');
    }
    const hostileHeader = await server.request('GET', pathOf(url), { headers: { 'accept-language': '<b>x</b>, zz' } });
    expect(hostileHeader.text).not.toContain('<b>x</b>');
    expect(hostileHeader.text).toContain('<html lang="en">');
  });

  it('revoking stops every link of the order at once: 410 with a clear page, and other orders keep theirs', async () => {
    const orderId = await createOrder(server, secretKey);
    const first = await newLink(orderId);
    const second = await newLink(orderId);
    const other = await newLink(await createOrder(server, secretKey));
    const revoked = await server.request('DELETE', `/api/v2/orders/${orderId}/links`, { key: secretKey });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ object: 'order_link_revocation', orderId, revoked: 2 });
    for (const url of [first, second]) {
      const json = await server.request('GET', `${pathOf(url)}/status.json`);
      expect(json.status).toBe(410);
      expect(json.body.error.code).toBe('order_link_revoked');
      const page = await server.request('GET', `${pathOf(url)}?lang=de`);
      expect(page.status).toBe(410);
      expect(page.text).toContain('Dieser Link ist nicht mehr gültig');
      expect(page.text).not.toContain(orderId);
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect((await server.request('GET', `${pathOf(other)}/status.json`)).status).toBe(200);
    expect((await server.request('DELETE', '/api/v2/orders/ord_doesnotexist/links', { key: secretKey })).status).toBe(404);
  });

  it('an expired link answers 410 order_link_expired, with its own page', async () => {
    const orderId = await createOrder(server, secretKey);
    const url = await newLink(orderId, { expiresIn: 60 });
    // What a minute's wait would do: the link's end moves to the past.
    await server.app.store.db
      .updateTable('order_links')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('order_id', '=', orderId)
      .execute();
    const json = await server.request('GET', `${pathOf(url)}/status.json`);
    expect(json.status).toBe(410);
    expect(json.body.error.code).toBe('order_link_expired');
    const page = await server.request('GET', pathOf(url));
    expect(page.status).toBe(410);
    expect(page.text).toContain('This link has expired');
    expect((await rawStream(`${server.baseUrl}${pathOf(url)}/events`)).status).toBe(410);
  });

  it('truncated, altered, unknown, foreign and expunged tokens, and API keys in /o/, all get the same 404 that tells nothing', async () => {
    const orderId = await createOrder(server, secretKey, { metadata: { carrier: 'UPS' } });
    const token = tokenOf(await newLink(orderId));
    const altered = `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`;
    const otherProject = await server.createProject('store', 'Other');
    const otherOrder = await createOrder(server, otherProject.secretKey);
    const foreign = await server.request('POST', `/api/v2/orders/${otherOrder}/links`, { key: otherProject.secretKey });
    // Another project's link shows that project's order, never this one's.
    const foreignView = await server.request('GET', `${pathOf(foreign.body.url)}/status.json`);
    expect(foreignView.body.order.id).toBe(otherOrder);
    // Another project cannot make a link to this project's order.
    expect((await server.request('POST', `/api/v2/orders/${orderId}/links`, { key: otherProject.secretKey })).status).toBe(404);

    const expungedOrder = await createOrder(server, secretKey);
    const expungedToken = tokenOf(await newLink(expungedOrder));
    expect((await server.request('POST', `/api/v2/orders/${expungedOrder}/expunge`, { key: secretKey })).status).toBe(200);

    const bad = [
      token.slice(0, 20),
      token.slice(0, -1),
      altered,
      `${token}x`,
      `olt_${'A'.repeat(43)}`,
      expungedToken,
      secretKey,
      publishableKey,
      'x'.repeat(3000),
      '%3Cscript%3E',
    ];
    const answers = new Set<string>();
    for (const candidate of bad) {
      const json = await server.request('GET', `/o/${candidate}/status.json`);
      expect(json.status).toBe(404);
      expect(json.body).toEqual({ error: { code: 'not_found', message: 'Not found' } });
      const page = await server.request('GET', `/o/${candidate}`);
      expect(page.status).toBe(404);
      expect(page.text).not.toContain(candidate);
      // Past the router's limit on a path segment the answer is the JSON 404; below it, the 404 page.
      if (candidate.length < 100) answers.add(page.text.replace(/nonce="[^"]+"/g, ''));
      expect((await rawStream(`${server.baseUrl}/o/${candidate}/events`)).status).toBe(404);
    }
    // Every 404 page is the same page: nothing tells one wrong token from another.
    expect(answers.size).toBe(1);
    // A route under /o/ that does not exist does not echo the token either.
    const unknownRoute = await server.request('GET', `/o/${token}/admin`);
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.text).not.toContain(token);
  });

  it('a link token is refused as a Bearer credential everywhere on the API', async () => {
    const orderId = await createOrder(server, secretKey);
    const token = tokenOf(await newLink(orderId));
    for (const [method, route] of [
      ['GET', `/api/v2/orders/${orderId}`],
      ['GET', '/api/v2/orders'],
      ['POST', `/api/v2/orders/${orderId}/links`],
      ['GET', '/api/v2/project/branding'],
    ] as const) {
      const res = await server.request(method, route, { key: token, body: method === 'POST' ? {} : undefined });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/opens only its own page under \/o\//);
    }
    expect((await rawStream(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await rawStream(`${server.baseUrl}/api/v2/orders/${orderId}/stream?token=${token}`)).status).toBe(401);
  });

  it('streams the current state first, then each change, over SSE; resumes after Last-Event-ID; ends with `lapsed` on revocation', async () => {
    const orderId = await createOrder(server, secretKey);
    const url = await newLink(orderId);
    const stream = new RecordingEventSource(`${server.baseUrl}${pathOf(url)}/events?lang=fr`, { events: ['order.update', 'lapsed'] });
    try {
      await waitFor(() => stream.messages.length === 1, 'the current state');
      expect(stream.messages[0]).toMatchObject({ id: '1', event: 'order.update', data: { object: 'public_order', locale: 'fr', order: { version: 1 } } });
      await setStatus(server, secretKey, orderId, 'PROCESSING');
      await waitFor(() => stream.messages.length === 2, 'the change');
      expect(stream.messages[1]).toMatchObject({ id: '2', data: { order: { status: 'PROCESSING' }, status: { label: 'En cours de traitement' } } });
      const resumed = new RecordingEventSource(`${server.baseUrl}${pathOf(url)}/events`, { lastEventId: '1', events: ['order.update'] });
      try {
        await waitFor(() => resumed.messages.length === 1, 'the version after Last-Event-ID');
        expect(resumed.ids).toEqual(['2']);
      } finally {
        resumed.close();
      }
      await server.request('DELETE', `/api/v2/orders/${orderId}/links`, { key: secretKey });
      await waitFor(() => stream.messages.some((m) => m.event === 'lapsed'), 'the lapse');
      expect(stream.messages.at(-1)).toMatchObject({ event: 'lapsed', data: { code: 'order_link_revoked' } });
      await waitFor(() => stream.closed || stream.errors.some((e) => e.code === 410), 'the stream to stay closed');
    } finally {
      stream.close();
    }
  });

  it('holds at most 20 open streams per link on a node, and gives the slots back when they close', async () => {
    const url = await newLink(await createOrder(server, secretKey));
    const events = `${server.baseUrl}${pathOf(url)}/events`;
    const held = [];
    try {
      for (let i = 0; i < 20; i++) {
        const stream = await holdStream(events);
        held.push(stream);
        expect(stream.status).toBe(200);
      }
      const refused = await rawStream(events);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('limit_exceeded');
      held.pop()?.close();
      await waitFor(async () => (await rawStream(events)).status === 200, 'a slot given back');
    } finally {
      for (const stream of held) stream.close();
    }
  });

  it("a disabled project's links stop (410) and work again once it is enabled", async () => {
    const project = await server.createProject('store', 'Paused');
    const orderId = await createOrder(server, project.secretKey);
    const res = await server.request('POST', `/api/v2/orders/${orderId}/links`, { key: project.secretKey });
    const status = `${pathOf(res.body.url)}/status.json`;
    await server.app.projects.disable(project.project.id);
    expect((await server.request('GET', status)).status).toBe(410);
    expect((await server.request('GET', pathOf(res.body.url))).status).toBe(410);
    await server.app.projects.enable(project.project.id);
    expect((await server.request('GET', status)).status).toBe(200);
  });

  it('sets branding with a secret key, refuses javascript: URLs and CSS in the colour, and records every change', async () => {
    const bad = [
      { logoUrl: 'javascript:alert(1)' },
      { logoUrl: 'http://insecure.example/logo.png' },
      { supportUrl: 'javascript:alert(document.cookie)' },
      { supportUrl: 'data:text/html,<script>alert(1)</script>' },
      { accentColor: 'red;} body{background:url(https://evil.example/x)' },
      { accentColor: '#fff;}' },
      { accentColor: 'expression(alert(1))' },
      { supportEmail: 'a@b.c"><script>' },
      { displayName: 'x'.repeat(500) },
      { publicMetadataKeys: ['ok', '<bad>'] },
      { unknown: true },
    ];
    for (const body of bad) {
      const res = await server.request('PATCH', '/api/v2/project/branding', { key: secretKey, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const reader = await server.app.projectKeys.create(projectId, { kind: 'restricted', permissions: ['orders:read'] });
    expect((await server.request('PATCH', '/api/v2/project/branding', { key: reader.key, body: { displayName: 'X' } })).status).toBe(403);
    const good = await server.request('PATCH', '/api/v2/project/branding', {
      key: secretKey,
      body: {
        displayName: 'Acme <Shop>',
        accentColor: '#C0F',
        supportUrl: 'https://help.acme.example/orders',
        supportEmail: 'help@acme.example',
        logoUrl: 'https://cdn.acme.example/logo.png',
      },
    });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ displayName: 'Acme <Shop>', accentColor: '#c0f', publicMetadataKeys: ['carrier'] });
    expect((await server.request('GET', '/api/v2/project/branding', { key: secretKey })).body.supportEmail).toBe('help@acme.example');

    const orderId = await createOrder(server, secretKey);
    const url = await newLink(orderId);
    const page = await server.request('GET', pathOf(url));
    expect(page.text).toContain('Acme &#60;Shop&#62;');
    expect(page.text).not.toContain('Acme <Shop>');
    expect(page.text).toContain('href="https://help.acme.example/orders"');
    expect(page.text).toContain('href="mailto:help@acme.example"');
    expect(page.text).toContain('--accent:#cc00ff');
    // The logo's own origin is the one image source allowed besides this server.
    expect(page.headers.get('content-security-policy')).toContain("img-src 'self' https://cdn.acme.example");
    await server.request('DELETE', `/api/v2/orders/${orderId}/links`, { key: secretKey });

    const audit = await server.request('GET', '/api/v2/audit-log?limit=100', { key: secretKey });
    const actions = audit.body.data.map((e: { action: string }) => e.action);
    expect(actions).toContain('project.branding_updated');
    expect(actions).toContain('order_link.created');
    expect(actions).toContain('order_link.revoked');
    expect(audit.text).not.toContain(tokenOf(url));
    // Clear it again for the other tests.
    await server.request('PATCH', '/api/v2/project/branding', {
      key: secretKey,
      body: { displayName: null, accentColor: null, supportUrl: null, supportEmail: null, logoUrl: null },
    });
  });

  it('a custom lifecycle labels its statuses per locale, and refuses labels for unknown statuses or locales', async () => {
    const lifecycle = {
      name: 'parcel',
      statuses: ['packed', 'shipped', 'delivered', 'lost'],
      initial: ['packed'],
      final: ['delivered', 'lost'],
      transitions: { packed: ['shipped', 'lost'], shipped: ['delivered', 'lost'] },
      display: { shipped: { en: { label: 'On its way', description: 'With the carrier' }, de: { label: 'Unterwegs' } } },
    };
    const project = await server.createProject(lifecycle, 'Parcels');
    const orderId = await createOrder(server, project.secretKey);
    await setStatus(server, project.secretKey, orderId, 'shipped');
    const res = await server.request('POST', `/api/v2/orders/${orderId}/links`, { key: project.secretKey });
    const en = await server.request('GET', `${pathOf(res.body.url)}/status.json`);
    expect(en.body.status).toMatchObject({ label: 'On its way', description: 'With the carrier' });
    expect(en.body.progress.steps.map((s: { label: string }) => s.label)).toEqual(['Packed', 'On its way', 'Delivered']);
    const ja = await server.request('GET', `${pathOf(res.body.url)}/status.json?lang=ja`);
    expect(ja.body.status.label).toBe('On its way');
    const de = await server.request('GET', `${pathOf(res.body.url)}/status.json?lang=de`);
    expect(de.body.status.label).toBe('Unterwegs');
    // The project API shows the labels with the lifecycle, for the dashboard and the merchant's own pages.
    const described = await server.request('GET', '/api/v2/project', { key: project.secretKey });
    expect(described.body.lifecycle.display.shipped.de).toEqual({ label: 'Unterwegs' });
    await setStatus(server, project.secretKey, orderId, 'delivered');
    expect((await server.request('GET', `${pathOf(res.body.url)}/status.json`)).body.status).toMatchObject({ final: true, successful: true });

    await expect(server.createProject({ ...lifecycle, display: { nowhere: { en: { label: 'x' } } } })).rejects.toThrow(/display: "nowhere" is not in statuses/);
    await expect(server.createProject({ ...lifecycle, display: { shipped: { xx: { label: 'x' } } } })).rejects.toThrow(/unknown locale "xx"/);
  });

  it('never writes a link token into a log line or an error message', () => {
    const token = `olt_${'a'.repeat(43)}`;
    expect(urlForLog(`/o/${token}`)).toBe('/o/***');
    expect(urlForLog(`/o/${token}/events?lang=de`)).toBe('/o/***/events?lang=de');
    expect(urlForLog(`/o/${token}/status.json?token=abc`)).toBe('/o/***/status.json?token=***');
    expect(urlForLog('/api/v2/orders/ord_1')).toBe('/api/v2/orders/ord_1');
  });
});

describe('guessing link tokens', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('random tokens get the same 404 until the address is rate-limited (429), and learn nothing', async () => {
    const statuses = new Map<number, number>();
    const bodies = new Set<string>();
    const started = Date.now();
    for (let i = 0; i < 400; i++) {
      const res = await server.request('GET', `/o/olt_${randomBytes(32).toString('base64url').replace(/[-_]/g, 'x').slice(0, 43)}/status.json`);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 404) bodies.add(res.text);
    }
    const seconds = (Date.now() - started) / 1000;
    expect([...statuses.keys()].sort()).toEqual([404, 429]);
    // The address's bucket: 100 at once, then 5 a second, however long the 400 took on this machine.
    expect(statuses.get(404)).toBeLessThanOrEqual(100 + Math.ceil(seconds * 5) + 1);
    expect(bodies.size).toBe(1);
    // The page itself is limited the same way. The bucket gains a token every 200 ms, and a
    // loaded machine can take that long between two requests, so ask until it answers 429.
    let limited = await server.request('GET', `/o/olt_${'b'.repeat(43)}`);
    for (let tries = 1; limited.status === 404 && tries < 200; tries++) limited = await server.request('GET', `/o/olt_${'b'.repeat(43)}`);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('links across restarts and a change of encryption key', () => {
  let dir: string;
  const apps: App[] = [];
  const lines: string[] = [];
  const open = async (env: Record<string, string>) => {
    const config = loadConfig(
      { port: 0, host: '127.0.0.1', dataDir: dir, demo: false },
      { ORDERCAST_RATE_LIMIT: '0', ORDERCAST_WS_HANDSHAKE_RATE: '0', ORDERCAST_METRICS_PORT: '0', ...env },
    );
    // Every line the server logs, at its most talkative, to look for the token in.
    const app = await createApp(config, { logger: pino({ level: 'trace' }, { write: (line: string) => lines.push(line) }) });
    apps.push(app);
    return { app, baseUrl: await app.listen() };
  };
  const newKey = () => randomBytes(32).toString('base64');

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-links-'));
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps working after a restart and after ORDERCAST_ENCRYPTION_KEY changes, and the token is never logged', async () => {
    const keyA = newKey();
    const first = await open({ ORDERCAST_ENCRYPTION_KEY: keyA, ORDERCAST_LOG_LEVEL: 'trace' });
    const { secretKey } = await first.app.projects.create({ name: 'Restart', lifecycle: 'store' });
    const auth = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
    const order = await (await fetch(`${first.baseUrl}/api/v2/orders`, { method: 'POST', headers: auth, body: '{}' })).json();
    const link = await (await fetch(`${first.baseUrl}/api/v2/orders/${order.id}/links`, { method: 'POST', headers: auth, body: '{}' })).json();
    const token = tokenOf(link.url);
    const linkPath = new URL(link.url).pathname;
    expect((await fetch(`${first.baseUrl}${linkPath}`)).status).toBe(200);
    expect((await fetch(`${first.baseUrl}${linkPath}/nothing-here`)).status).toBe(404);
    await first.app.close();

    const second = await open({ ORDERCAST_ENCRYPTION_KEY: newKey(), ORDERCAST_ENCRYPTION_KEY_PREVIOUS: keyA });
    const view = await (await fetch(`${second.baseUrl}${linkPath}/status.json`)).json();
    expect(view.order.id).toBe(order.id);
    expect((await fetch(`${second.baseUrl}${linkPath}`)).status).toBe(200);

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).not.toContain(token.slice(4, 24));
  });
});

describe('links with tracing on', () => {
  it("a request span names the route and /o/***, never the link's token", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-links-traced-'));
    const collector = await startOtlpReceiver();
    const created = runCli(['projects', 'create', '--name', 'Traced', '--lifecycle', 'store', '--json', '--data-dir', dataDir]);
    const { secretKey } = JSON.parse(created.stdout);
    const server = await startServerProcess(['--no-demo', '--data-dir', dataDir], {
      ORDERCAST_RATE_LIMIT: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    try {
      const auth = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
      const order = await (await fetch(`${server.baseUrl}/api/v2/orders`, { method: 'POST', headers: auth, body: '{}' })).json();
      const link = await (await fetch(`${server.baseUrl}/api/v2/orders/${order.id}/links`, { method: 'POST', headers: auth, body: '{}' })).json();
      const linkPath = new URL(link.url).pathname;
      expect((await fetch(`${server.baseUrl}${linkPath}/status.json`)).status).toBe(200);
      const spans = await collector.waitFor((all) => all.some((span) => span.name === 'GET /o/:token/status.json'), 'the span of the status.json request');
      const span = spans.find((s) => s.name === 'GET /o/:token/status.json');
      expect(span?.attributes['url.path']).toBe('/o/***/status.json');
      expect(JSON.stringify(spans)).not.toContain(tokenOf(link.url));
    } finally {
      await server.stop();
      await collector.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
