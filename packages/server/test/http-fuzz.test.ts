import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './helpers/raw-http.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';

/** Small, seeded, reproducible: ORDERCAST_FUZZ_SEED=<n> replays a run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.ORDERCAST_FUZZ_SEED ?? Date.now() % 1_000_000);
/** Bounded in both: CI stays fast, and a slow machine still sends a meaningful number. */
const TIME_BUDGET_MS = 8_000;
const MAX_REQUESTS = 4_000;
const CONCURRENCY = 48;

/** `{"error": {"code", "message"}}`, the shape of every error answer (a body cut short by the read timeout is skipped). */
function inErrorShape(body: string): boolean {
  if (body === '') return true;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string';
  } catch {
    return false;
  }
}

describe('HTTP fuzzing: thousands of malformed requests', () => {
  let server: ServerProcess;
  let dataDir: string;
  let secretKey: string;
  let orderId: string;
  let routes: Array<{ method: string; path: string }>;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-fuzz-'));
    const created = runCli(['projects', 'create', '--name', 'fuzz', '--lifecycle', 'onramp', '--json', '--data-dir', dataDir]);
    secretKey = JSON.parse(created.stdout).secretKey;
    server = await startServerProcess(['--no-demo', '--data-dir', dataDir], {
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_WS_HANDSHAKE_RATE: '0',
      ORDERCAST_WS_MESSAGE_RATE: '0',
    });
    const order = await fetch(`${server.baseUrl}/api/v2/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: '{}',
    });
    orderId = ((await order.json()) as { id: string }).id;
    // Every documented route, plus the ones the OpenAPI document does not list.
    const spec = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(spec.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path: p })));
    for (const p of [
      '/',
      '/healthz',
      '/readyz',
      '/openapi.json',
      '/docs',
      '/docs/static/index.html',
      '/docs/static/../../../../etc/passwd',
      '/metrics',
      '/ws/',
      '/connection/websocket',
      '/api/api/v2/orders',
    ]) {
      routes.push({ method: 'GET', path: p });
    }
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers none of them with a 5xx, never exits, and still serves afterwards', async () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const int = (max: number) => Math.floor(random() * max);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
    const host = new URL(server.baseUrl).host;

    const hostileValues = [
      '-1',
      '0',
      '1e309',
      'NaN',
      'abc',
      '',
      '%',
      '%00',
      '%ff%fe',
      '[]',
      '{}',
      'null',
      '9'.repeat(400),
      'a'.repeat(5000),
      '../../etc/passwd',
      '<script>',
      "' or 1=1 --",
      '\u0000',
      'latest',
      'true',
    ];
    const queryNames = [
      'limit',
      'cursor',
      'after',
      'waitForChange',
      'status',
      'userExternalId',
      'externalId',
      'createdAfter',
      'createdBefore',
      'endpointId',
      'orderId',
      'since',
      'x',
    ];
    const bodies = [
      '{',
      '{"status":',
      '[]',
      '"just a string"',
      'null',
      '{"status":5}',
      '{"status":["PROCESSING"]}',
      '{"amount":"1e999999"}',
      '{"amount":1e309}',
      '{"metadata":"not an object"}',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"a":"\\ud800"}',
      '\ufeff{}',
      `{"metadata":${'['.repeat(3000)}${']'.repeat(3000)}}`,
      `{"externalId":"${'x'.repeat(300)}"}`,
      '{"url":"http://169.254.169.254/latest/meta-data"}',
      '{"enabledEvents":"ALL"}',
      '{"since":"yesterday"}',
      '{"userExternalId":{"$ne":null}}',
      '{"expiresIn":-5}',
      '{"graceSeconds":1e100}',
    ];
    const auth = () =>
      pick([
        `Authorization: Bearer ${secretKey}\r\n`,
        `Authorization: Bearer ${secretKey}\r\n`,
        'Authorization: Bearer sk_bogus\r\n',
        'Authorization: Basic Zm9vOmJhcg==\r\n',
        'Authorization: Bearer eyJhbGciOiJub25lIn0.e30.\r\n',
        '',
      ]);
    const routePath = () => {
      const route = pick(routes);
      const id = pick([orderId, 'ord_missing', '%2e%2e', 'x'.repeat(500), '%00', 'whk_x', 'dlv_x', '']);
      return { method: route.method, path: route.path.replace(/\{[^}]+\}/g, id) };
    };
    const withQuery = (p: string) => {
      const n = int(4);
      if (n === 0) return p;
      const parts = Array.from({ length: n }, () => `${pick(queryNames)}=${encodeURIComponent(pick(hostileValues)).slice(0, int(2) ? 6000 : 50)}`);
      // Raw, unencoded characters too: the parser, not the test, must cope.
      if (random() < 0.2) parts.push(pick(['a=%', 'a=%zz', 'a[b]=1', 'a=1&a=2&a=3', '&&&', '=', 'waitForChange=1&waitForChange=2']));
      return `${p}?${parts.join('&')}`;
    };
    const jsonRequest = (method: string, p: string, body: string) =>
      `${method} ${p} HTTP/1.1\r\nHost: ${host}\r\n${auth()}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

    const generators: Array<[string, () => string | Buffer]> = [
      [
        'bad query on a route',
        () => {
          const r = routePath();
          return `${r.method} ${withQuery(r.path)} HTTP/1.1\r\nHost: ${host}\r\n${auth()}Connection: close\r\n\r\n`;
        },
      ],
      [
        'bad JSON on a route',
        () => {
          const r = routePath();
          return jsonRequest(pick(['POST', 'PATCH', 'PUT', 'DELETE', r.method]), withQuery(r.path), pick(bodies));
        },
      ],
      [
        'bad request line',
        () =>
          pick([
            `${pick(['GET', 'POST', 'G E T', 'get', 'FOO', 'CONNECT', 'TRACE', '\u0000', ''])} ${pick(['/', '*', '//x', '/%', 'http://evil.example/', '/\u0000', `/${'a'.repeat(20_000)}`, ''])} ${pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'HTTPS/1.1', 'HTTP/1.1 extra', ''])}\r\nHost: x\r\nConnection: close\r\n\r\n`,
            'GET\r\n\r\n',
            '\r\n\r\n\r\n',
            `GET /healthz HTTP/1.1\n\n`,
            `GET / HTTP/1.1\rHost: x\r\r`,
          ]),
      ],
      [
        'bad headers',
        () => {
          const r = routePath();
          const header = pick([
            'Bad Header Line\r\n',
            'X-A: \u0000\r\n',
            ': no-name\r\n',
            'Content-Length: -1\r\n',
            'Content-Length: 1\r\nContent-Length: 2\r\n',
            'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n',
            'Transfer-Encoding: chunked\r\n',
            'Transfer-Encoding: gzip, chunked\r\n',
            `X-Big: ${'a'.repeat(20_000)}\r\n`,
            Array.from({ length: 300 }, (_, i) => `X-H${i}: ${i}\r\n`).join(''),
            'Content-Type: application/json; charset=ebcdic\r\n',
            'Content-Type: multipart/form-data; boundary=x\r\n',
            'Content-Encoding: gzip\r\n',
            'Expect: 100-continue\r\n',
            'Expect: teapot\r\n',
            'If-None-Match: "\u00ff"\r\n',
            'Authorization: Bearer\r\n',
            `Authorization: Bearer ${'x'.repeat(10_000)}\r\n`,
            'Idempotency-Key: \r\n',
            `Idempotency-Key: ${'k'.repeat(5000)}\r\n`,
            'Origin: null\r\n',
            'Upgrade: websocket\r\nConnection: Upgrade\r\n',
            'Sec-WebSocket-Key: !!!\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n',
          ]);
          const body = pick(['', '{}', 'zz\r\n{}\r\n0\r\n\r\n', '5\r\n{"a":\r\n0\r\n\r\n']);
          return `${r.method} ${r.path} HTTP/1.1\r\nHost: ${host}\r\n${auth()}${header}\r\n${body}`;
        },
      ],
      [
        'random bytes',
        () => (random() < 0.5 ? bytes(1 + int(2000)) : Buffer.concat([Buffer.from(`POST /api/v2/orders HTTP/1.1\r\nHost: ${host}\r\n`), bytes(1 + int(500))])),
      ],
    ];

    const counts = new Map<string, number>();
    const fiveHundreds: string[] = [];
    const notInShape: string[] = [];
    let sent = 0;
    const deadline = Date.now() + TIME_BUDGET_MS;
    const worker = async () => {
      while (sent < MAX_REQUESTS && Date.now() < deadline) {
        sent++;
        const [kind, make] = pick(generators);
        const request = make();
        // A request the server still waits on (a body never sent) is cut short: only answers matter.
        const answer = await rawRequest(server.baseUrl, request, 400);
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        // WebSocket handshakes and Socket.IO's own transport (/ws/) answer in their protocols' terms.
        const websocketProtocol = /\r\nUpgrade: websocket\r\n|^\S+ \/ws\//i.test(String(request));
        if (answer.status >= 400 && !websocketProtocol && !inErrorShape(answer.body)) {
          notInShape.push(`${answer.status} for ${kind}: ${String(request).slice(0, 200)}\n→ ${answer.body.slice(0, 300)}`);
        }
        for (const match of answer.raw.matchAll(/HTTP\/1\.[01] (5\d\d)/g)) {
          fiveHundreds.push(`${match[1]} for ${kind}: ${String(request).slice(0, 200)}\n→ ${answer.raw.slice(0, 300)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    // WebSocket frames no client would send, on both gateways' endpoints.
    let frames = 0;
    for (const wsPath of ['/connection/websocket', '/ws/?EIO=4&transport=websocket']) {
      for (let round = 0; round < 10; round++) {
        const ws = new WebSocket(`${server.baseUrl.replace('http', 'ws')}${wsPath}`);
        await new Promise<void>((resolve) => {
          ws.once('open', () => {
            for (let i = 0; i < 20; i++) {
              const frame = pick<string | Buffer>([
                bytes(int(300)),
                '{',
                '{"id":1,"connect":{"token":5}}',
                '{"id":"x","subscribe":{"channel":null}}',
                '42["subscribe:order",{"orderId":{"$gt":""}}]',
                '40{"apiKey":[]}',
                '4' + 'x'.repeat(1000),
                '[]',
                'null',
              ]);
              ws.send(frame);
              frames++;
            }
            setTimeout(() => ws.terminate(), 50);
          });
          ws.once('close', () => resolve());
          ws.once('error', () => resolve());
        });
      }
    }

    console.log(
      `[fuzz] seed ${SEED}: ${sent} requests ${JSON.stringify(Object.fromEntries(counts))}, ${frames} WebSocket frames, ${fiveHundreds.length} 5xx, ${notInShape.length} errors not in the error shape`,
    );
    expect(fiveHundreds.slice(0, 5)).toEqual([]);
    expect(notInShape.slice(0, 5)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(1_000);
    expect(server.child.exitCode).toBeNull();
    // Still serving, in full: a write and a read.
    const headers = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
    const moved = await fetch(`${server.baseUrl}/api/v2/orders/${orderId}/status`, { method: 'POST', headers, body: '{"status":"PROCESSING"}' });
    expect(moved.status).toBe(200);
    const read = await fetch(`${server.baseUrl}/api/v2/orders/${orderId}`, { headers });
    expect(((await read.json()) as { status: string }).status).toBe('PROCESSING');
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
  });
});
