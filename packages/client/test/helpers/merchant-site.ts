import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const sdkDist = fileURLToPath(new URL('../../dist/', import.meta.url));
const socketIoClient = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist', 'socket.io.esm.min.js');

export interface MerchantSite {
  baseUrl: string;
  /** Serves `html` at `route` (the SDK is at `/sdk/<file>.js`, socket.io-client at `/vendor/socket.io-client.js`). */
  page(route: string, html: string, type?: string): void;
  close(): Promise<void>;
}

/**
 * A merchant's web server for the browser tests: it serves their pages and the built SDK,
 * on an origin of its own, and nothing of Ordercast's: the pages call a real Ordercast
 * server cross-origin, as a merchant's pages do.
 */
export async function startMerchantSite(): Promise<MerchantSite> {
  const pages = new Map<string, { body: string; type: string }>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
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
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    page: (route, body, type = 'text/html; charset=utf-8') => void pages.set(route, { body, type }),
    close: () =>
      new Promise<void>((resolve) => {
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
