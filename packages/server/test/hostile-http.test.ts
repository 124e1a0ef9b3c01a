import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { rawRequest } from './helpers/raw-http.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const THREE_MB = 3 * 1024 * 1024;
const TEN_MB = 10 * 1024 * 1024;

function expectErrorShape(body: unknown, code: string): void {
  expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
}

/** `depth` levels of `{"a": …}` around an empty object. */
function nested(depth: number): unknown {
  let value: unknown = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/**
 * Against a server in its own process, as clients meet it: in the test's own process the
 * server's reads and the client's writes share one event loop, which hides the reset a
 * client sees when the server closes before reading the body.
 */
describe('oversize bodies (server process)', () => {
  let oversize: ServerProcess;
  let secretKey: string;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-oversize-'));
    const created = runCli(['projects', 'create', '--name', 'oversize', '--lifecycle', 'store', '--json', '--data-dir', dataDir]);
    secretKey = JSON.parse(created.stdout).secretKey;
    oversize = await startServerProcess(['--no-demo', '--data-dir', dataDir], { ORDERCAST_RATE_LIMIT: '0' });
  });
  afterAll(async () => {
    await oversize?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers 3 MB and 10 MB bodies sent with Node's fetch with a 413 the client reads, every time", async () => {
    const outcomes: Array<number | string> = [];
    for (const size of [THREE_MB, TEN_MB]) {
      const body = JSON.stringify({ metadata: { blob: 'x'.repeat(size) } });
      for (let i = 0; i < 10; i++) {
        try {
          const response = await fetch(`${oversize.baseUrl}/api/v2/orders`, {
            method: 'POST',
            headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
            body,
          });
          const parsed = await response.json();
          expectErrorShape(parsed, 'payload_too_large');
          outcomes.push(response.status);
        } catch (error) {
          // Closing before the body is read shows up here as EPIPE or a reset.
          outcomes.push(String((error as Error & { cause?: NodeJS.ErrnoException }).cause?.code ?? error));
        }
      }
    }
    expect(outcomes).toEqual(Array(20).fill(413));
  });

  it('answers curl with 413, with and without Expect: 100-continue', async () => {
    const body = JSON.stringify({ metadata: { blob: 'x'.repeat(THREE_MB) } });
    for (const expectHeader of ['Expect: 100-continue', 'Expect:']) {
      const result = await runCurlWithBody(oversize.baseUrl, secretKey, expectHeader, body);
      expect(result.status, `curl with "${expectHeader}": ${result.stderr}`).toBe(413);
      expectErrorShape(JSON.parse(result.body), 'payload_too_large');
    }
  });
});

describe('hostile HTTP input gets a 4xx in the error shape', () => {
  let server: TestServer;
  let project: CreatedProject;
  let host: string;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
    project = await server.createProject('store');
    host = new URL(server.baseUrl).host;
  });
  afterAll(async () => server?.close());

  it('refuses an oversize Expect: 100-continue request before the body is sent', async () => {
    const answer = await rawRequest(
      server.baseUrl,
      `POST /api/v2/orders HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${project.secretKey}\r\nContent-Type: application/json\r\nContent-Length: ${THREE_MB}\r\nExpect: 100-continue\r\n\r\n`,
    );
    expect(answer.status).toBe(413);
    expect(answer.raw).not.toContain('100 Continue');
    expect(answer.headers.connection).toBe('close');
    expectErrorShape(JSON.parse(answer.body), 'payload_too_large');
  });

  it('lets a small Expect: 100-continue request through', async () => {
    const body = JSON.stringify({ externalId: 'continue-1' });
    const answer = await rawRequest(
      server.baseUrl,
      `POST /api/v2/orders HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${project.secretKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(answer.raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201/);
  });

  it('answers a path that climbs out of the docs directory with 4xx, never the file or a 500', async () => {
    for (const target of [
      '/docs/static/../../../../etc/passwd',
      '/docs/static/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/docs/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      const answer = await rawRequest(server.baseUrl, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(answer.status, target).toBeGreaterThanOrEqual(400);
      expect(answer.status, target).toBeLessThan(500);
      expect(answer.body).not.toContain('root:');
      expect(JSON.parse(answer.body).error.code).toMatch(/^(forbidden|route_not_found|validation_failed)$/);
    }
  });

  it('answers a path with bad percent-encoding with 400 in the error shape', async () => {
    for (const target of ['/api/v2/orders/%zz', '/%', '/api/v2/orders/%c0%ae%c0%ae']) {
      const answer = await rawRequest(server.baseUrl, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(answer.status, target).toBe(400);
      expectErrorShape(JSON.parse(answer.body), 'validation_failed');
    }
  });

  it('refuses metadata nested 5,000 levels deep with 400, with or without an Idempotency-Key', async () => {
    // Written out as text: the test's own JSON.stringify would overflow the stack on it.
    const deep = `{"metadata":${'{"a":'.repeat(5_000)}{}${'}'.repeat(5_000)}}`;
    for (const headers of [{}, { 'idempotency-key': 'deep-1' }] as Record<string, string>[]) {
      const answer = await server.request('POST', '/api/v2/orders', { key: project.secretKey, rawBody: deep, headers });
      expect(answer.status).toBe(400);
      expectErrorShape(answer.body, 'validation_failed');
    }
    // Under the body's limit but over the metadata's: the field is named.
    const answer = await server.request('POST', '/api/v2/orders', {
      key: project.secretKey,
      body: { metadata: nested(40) },
      headers: { 'idempotency-key': 'deep-2' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual({ field: 'metadata' });
    // Reasonable nesting is fine.
    expect((await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: { metadata: nested(10) } })).status).toBe(201);
  });

  it('answers a malformed request in the error shape and closes the connection', async () => {
    const cases = [
      'GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
      'GARBAGE\r\n\r\n',
      `POST /api/v2/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${project.secretKey}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    ];
    for (const bytes of cases) {
      const answer = await rawRequest(server.baseUrl, bytes);
      expect(answer.status, JSON.stringify(bytes)).toBe(400);
      expect(answer.headers.connection).toBe('close');
      expect(answer.closedByServer).toBe(true);
      expectErrorShape(JSON.parse(answer.body), 'validation_failed');
    }
    const huge = await rawRequest(server.baseUrl, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(huge.status).toBe(431);
    expectErrorShape(JSON.parse(huge.body), 'payload_too_large');
  });

  it('answers a malformed request that follows a good one on a keep-alive connection, then closes', async () => {
    const answer = await rawRequest(server.baseUrl, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n`);
    expect(answer.status).toBe(200);
    expect(answer.raw).toMatch(/HTTP\/1\.1 400 Bad Request\r\n[\s\S]*connection: close[\s\S]*"code":"validation_failed"/);
    expect(answer.closedByServer).toBe(true);
  });

  it('answers a text/plain body with 415 unsupported_media_type, as documented', async () => {
    for (const contentType of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded']) {
      const answer = await server.request('POST', '/api/v2/orders', {
        key: project.secretKey,
        rawBody: '{"externalId":"t"}',
        headers: { 'content-type': contentType },
      });
      expect(answer.status, contentType).toBe(415);
      expectErrorShape(answer.body, 'unsupported_media_type');
    }
  });
});

/** curl reading the body from stdin, so a 3 MB body does not go through the command line. */
function runCurlWithBody(baseUrl: string, key: string, expectHeader: string, body: string): Promise<{ status: number; body: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'curl',
      [
        '-sS',
        '-X',
        'POST',
        `${baseUrl}/api/v2/orders`,
        '-H',
        `Authorization: Bearer ${key}`,
        '-H',
        'Content-Type: application/json',
        '-H',
        expectHeader,
        '--data-binary',
        '@-',
        '-w',
        '\n%{http_code}',
      ],
      { maxBuffer: 1024 * 1024 },
      (_error, stdout, stderr) => {
        const lines = String(stdout).split('\n');
        const status = Number(lines.pop());
        resolve({ status, body: lines.join('\n'), stderr: String(stderr) });
      },
    );
    child.stdin?.end(body);
  });
}
