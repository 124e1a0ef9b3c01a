import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PublicOrderView } from '../../src/public-order.js';
import { parseOrderUpdate } from '../../src/socket-messages.js';
import { SseStreamParser } from '../../src/sse-stream-parser.js';
import type { Order } from '../../src/types.js';
import type { Ordercast } from './ordercast.js';

const require = createRequire(import.meta.url);
const sdkDist = fileURLToPath(new URL('../../dist/', import.meta.url));
const socketIoClient = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist', 'socket.io.esm.min.js');

/** The onramp preset's happy path and English labels, as a project would set them for its link page. */
const HAPPY_PATH = ['AWAITING_PAYMENT_FROM_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'];
const LABELS: Record<string, string> = {
  AWAITING_PAYMENT_FROM_USER: 'Awaiting payment',
  PAYMENT_DONE_MARKED_BY_USER: 'Payment sent',
  PROCESSING: 'Processing',
  PENDING_DELIVERY: 'On its way',
  COMPLETED: 'Delivered',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};
export const BRANDING = {
  displayName: 'Acme Coins',
  logoUrl: null,
  accentColor: '#0a7a55',
  supportUrl: 'https://support.acme.example/help',
  supportEmail: null,
};

export interface PageServer {
  baseUrl: string;
  /** Serves `html` at `route` (the SDK is at `/sdk/<file>.js`, socket.io-client at `/vendor/socket.io-client.js`). */
  page(route: string, html: string, type?: string): void;
  /** An order link to a real order, served by the stand-in of the contract's `/o/{token}/…` routes. */
  link(orderId: string): string;
  /** Revokes a link: its open streams get `event: lapsed` and end, its reads answer 410. */
  revoke(token: string): void;
  /** Answers 503 to every link stream from now on, as a proxy that does not pass streams would. */
  refuseStreams(): void;
  /** Paths asked so far. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A merchant's web server for the browser tests: serves their pages and the built SDK, and
 * stands in for the order-link routes of the buyer-page contract (`GET /o/{token}/status.json`,
 * `GET /o/{token}/events`) by reading a real Ordercast order with the secret key. Once the
 * real routes are merged, the link tests can point `base-url` at Ordercast itself.
 */
export async function startPageServer(ordercast: Ordercast): Promise<PageServer> {
  const pages = new Map<string, { body: string; type: string }>();
  const links = new Map<string, { orderId: string; revoked: boolean }>();
  const streams = new Map<string, Set<http.ServerResponse>>();
  const requests: string[] = [];
  const upstreams = new Set<http.ClientRequest>();
  let streamsRefused = false;

  const viewOf = (order: Order, lang: string): PublicOrderView => {
    const at = HAPPY_PATH.indexOf(order.status);
    const history = [...order.statusHistory].sort((a, b) => a.version - b.version);
    const seen = new Set(history.map((entry) => entry.status));
    const reached = at === -1 ? HAPPY_PATH.map((status) => seen.has(status)) : HAPPY_PATH.map((_, index) => index <= at);
    return {
      object: 'public_order',
      locale: lang === 'de' ? 'de' : 'en',
      order: {
        id: order.id,
        status: order.status,
        version: order.version,
        updatedAt: order.updatedAt,
        amount: order.amount,
        currency: order.currency,
        metadata: {},
        timeline: history.map((entry) => ({ status: entry.status, label: LABELS[entry.status] ?? entry.status, at: entry.at })),
        expectedBy: null,
        eta: null,
      },
      status: {
        label: LABELS[order.status] ?? order.status,
        description: order.status === 'PROCESSING' ? 'We are preparing your coins.' : null,
        final: order.final,
        successful: order.status === 'COMPLETED',
      },
      progress: { steps: HAPPY_PATH.map((status, index) => ({ status, label: LABELS[status] ?? status, reached: reached[index] ?? false })), current: at },
      branding: BRANDING,
    };
  };

  const refuse = (res: http.ServerResponse, status: number, code: string): void =>
    void res
      .writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
      .end(JSON.stringify({ error: { code, message: code } }));

  async function statusJson(res: http.ServerResponse, orderId: string, lang: string): Promise<void> {
    const answer = await fetch(`${ordercast.baseUrl}/api/v2/orders/${orderId}`, { headers: { authorization: `Bearer ${ordercast.secretKey}` } });
    if (!answer.ok) return refuse(res, 404, 'not_found');
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' })
      .end(JSON.stringify(viewOf((await answer.json()) as Order, lang)));
  }

  /** Re-emits the order's real stream (`GET /api/v2/orders/{id}/stream`) as the link's: same ids, the public view as data. */
  function events(req: http.IncomingMessage, res: http.ServerResponse, token: string, orderId: string, lang: string): Promise<void> {
    const headers: Record<string, string> = { authorization: `Bearer ${ordercast.secretKey}`, accept: 'text/event-stream' };
    const lastEventId = req.headers['last-event-id'];
    if (typeof lastEventId === 'string') headers['last-event-id'] = lastEventId;
    return new Promise((resolve, reject) => {
      // node:http rather than fetch: destroying the request closes its connection at once, so Ordercast sees the stream end.
      const upstream = http.get(`${ordercast.baseUrl}/api/v2/orders/${orderId}/stream`, { headers }, (answer) => {
        if (answer.statusCode === 204) return resolve(void res.writeHead(204).end());
        if (answer.statusCode !== 200) return resolve(refuse(res, 404, 'not_found'));
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
        res.write(': stream\n\n');
        const open = streams.get(token) ?? new Set();
        streams.set(token, open.add(res));
        res.once('close', () => open.delete(res));
        const parser = new SseStreamParser((message) => {
          if (message.event !== 'order.update') return;
          const order = parseOrderUpdate(JSON.parse(message.data), orderId);
          if (order) res.write(`id: ${order.version}\nevent: order.update\ndata: ${JSON.stringify(viewOf(order, lang))}\n\n`);
        });
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => parser.push(chunk));
        answer.once('close', () => {
          res.end();
          resolve();
        });
      });
      upstreams.add(upstream);
      upstream.once('error', reject);
      // The browser left, or the link was revoked: the upstream stream goes too.
      res.once('close', () => {
        upstreams.delete(upstream);
        upstream.destroy();
      });
    });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url.pathname + url.search);
    const page = pages.get(url.pathname);
    if (page) return void res.writeHead(200, { 'content-type': page.type }).end(page.body);
    if (url.pathname === '/vendor/socket.io-client.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(socketIoClient));
    const sdkFile = /^\/sdk\/([\w.-]+\.js)$/.exec(url.pathname)?.[1];
    if (sdkFile) {
      try {
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(path.join(sdkDist, sdkFile)));
      } catch {
        return void res.writeHead(404).end();
      }
    }
    const route = /^\/o\/([\w-]+)\/(status\.json|events)$/.exec(url.pathname);
    if (route) {
      const [, token = '', what] = route;
      const link = links.get(token);
      if (!link) return refuse(res, 404, 'not_found');
      if (link.revoked) return refuse(res, 410, 'order_link_revoked');
      const lang = url.searchParams.get('lang') ?? 'en';
      if (what === 'events' && streamsRefused) return refuse(res, 503, 'service_unavailable');
      const served = what === 'events' ? events(req, res, token, link.orderId, lang) : statusJson(res, link.orderId, lang);
      return void served.catch(() => (res.headersSent ? res.end() : refuse(res, 502, 'upstream_failed')));
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let next = 0;
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    page: (route, body, type = 'text/html; charset=utf-8') => void pages.set(route, { body, type }),
    link(orderId) {
      const token = `olt_test${++next}${Math.random().toString(36).slice(2, 10)}`;
      links.set(token, { orderId, revoked: false });
      return token;
    },
    refuseStreams: () => void (streamsRefused = true),
    revoke(token) {
      const link = links.get(token);
      if (link) link.revoked = true;
      for (const res of streams.get(token) ?? []) res.end('event: lapsed\ndata: {}\n\n');
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const upstream of upstreams) upstream.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTML page that loads the SDK's ES modules as a merchant's page would, socket.io-client through an import map. */
export function htmlPage(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<script type="importmap">{ "imports": { "socket.io-client": "/vendor/socket.io-client.js" } }</script>
<style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }</style>
</head>
<body>
<main>
<h1>${title}</h1>
${body}
</main>
<script type="module">${script}</script>
</body>
</html>`;
}
