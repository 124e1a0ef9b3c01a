#!/usr/bin/env node
// The checkout example: serves the status page and the SDK, plays the merchant backend
// (mints user tokens with the secret key, which never reaches the browser), and forwards
// /api and /socket.io to Ordercast so the page talks to one origin.
//
//   ORDERCAST_URL=http://localhost:8080 ORDERCAST_SECRET_KEY=sk_... ORDERCAST_PUBLISHABLE_KEY=pk_... \
//     node examples/checkout/server.mjs          # then open http://localhost:3001/?order=ord_...&user=user-7
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ordercast = new URL(process.env.ORDERCAST_URL ?? 'http://localhost:8080');
const secretKey = process.env.ORDERCAST_SECRET_KEY;
const publishableKey = process.env.ORDERCAST_PUBLISHABLE_KEY;
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDist = path.join(path.dirname(require.resolve('@ordercast/client/package.json')), 'dist');
const socketIoDist = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist');

const files = {
  '/': [path.join(here, 'index.html'), 'text/html; charset=utf-8'],
  '/vendor/socket.io-client.js': [path.join(socketIoDist, 'socket.io.esm.min.js'), 'text/javascript'],
};

function sendFile(res, file, type) {
  const stream = createReadStream(file);
  stream.once('open', () => {
    res.writeHead(200, { 'content-type': type });
    stream.pipe(res);
  });
  stream.once('error', () => res.writeHead(404).end('not found'));
}

/** The merchant backend's job: vouch for the signed-in user. (A real one checks its session first.) */
async function issueToken(res, user) {
  const answer = await fetch(new URL('/api/v2/tokens', ordercast), {
    method: 'POST',
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userExternalId: user, expiresIn: 3600 }),
  });
  const body = await answer.json();
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(answer.ok ? { token: body.token, publishableKey } : body));
}

function forward(req, res) {
  const upstream = http.request(
    { host: ordercast.hostname, port: ordercast.port, path: req.url, method: req.method, headers: { ...req.headers, host: ordercast.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.once('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end('Ordercast is unreachable')));
  res.once('close', () => upstream.destroy());
  req.pipe(upstream);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (files[url.pathname]) return sendFile(res, ...files[url.pathname]);
  if (url.pathname.startsWith('/sdk/') && /^[\w.-]+\.js$/.test(url.pathname.slice(5))) {
    return sendFile(res, path.join(sdkDist, url.pathname.slice(5)), 'text/javascript');
  }
  if (url.pathname === '/token') return issueToken(res, url.searchParams.get('user') ?? '').catch(() => res.writeHead(502).end());
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/socket.io/')) return forward(req, res);
  res.writeHead(404).end('not found');
});

// WebSocket upgrades for /socket.io/ go straight through to Ordercast.
server.on('upgrade', (req, socket, head) => {
  const upstream = net.connect(Number(ordercast.port || 80), ordercast.hostname, () => {
    const headers = Object.entries({ ...req.headers, host: ordercast.host }).map(([k, v]) => `${k}: ${v}`);
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
    upstream.write(head);
    upstream.pipe(socket).pipe(upstream);
  });
  upstream.once('error', () => socket.destroy());
  socket.once('error', () => upstream.destroy());
});

server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => {
  console.log(`checkout example on http://127.0.0.1:${server.address().port}`);
});
