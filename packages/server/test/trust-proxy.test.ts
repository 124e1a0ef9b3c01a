import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../src/config.js';
import { clientAddress, trustedProxyTest } from '../src/lib/client-address.js';
import { connectSocket, userToken, waitFor, wsBase } from './helpers/realtime.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * Behind a load balancer every connection comes from the balancer's address. With
 * ORDERCAST_TRUST_PROXY the limits and logs see the client's address from
 * X-Forwarded-For; without it, the header is ignored, so a client cannot pick its own.
 */
const CLIENTS = 20;
// One new connection per second per address, two at once: 20 clients from one address are refused after a few.
const LIMITS = { ORDERCAST_WS_HANDSHAKE_RATE: '1' };

async function socketIoOutcomes(server: TestServer, forwardedFor: (i: number) => string): Promise<string[]> {
  const project = await server.createProject('onramp');
  // A user each, so the per-credential bucket is not what refuses them.
  const tokens = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => userToken(server, project.secretKey, `user-${i}`)));
  const results = await Promise.allSettled(
    tokens.map((token, i) =>
      connectSocket(server.baseUrl, { apiKey: project.publishableKey, token }, { extraHeaders: { 'x-forwarded-for': forwardedFor(i) } }),
    ),
  );
  for (const result of results) if (result.status === 'fulfilled') result.value.close();
  return results.map((result) => (result.status === 'fulfilled' ? 'connected' : (result.reason as Error).message));
}

async function centrifugeUpgrades(server: TestServer, forwardedFor: (i: number) => string): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: CLIENTS },
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const ws = new WebSocket(`${wsBase(server.baseUrl)}/connection/websocket`, { headers: { 'x-forwarded-for': forwardedFor(i) } });
          ws.once('open', () => {
            ws.close();
            resolve(101);
          });
          ws.once('unexpected-response', (_request, response) => {
            resolve(response.statusCode ?? 0);
            ws.terminate();
          });
          ws.once('error', reject);
        }),
    ),
  );
}

const count = (list: unknown[], value: unknown) => list.filter((x) => x === value).length;

describe('ORDERCAST_TRUST_PROXY', () => {
  describe('set to one hop (one load balancer in front)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('sqlite', { ...LIMITS, ORDERCAST_TRUST_PROXY: '1' });
    });
    afterAll(() => server?.close());

    it('lets 20 clients behind the balancer connect to Socket.IO at once: each has its own address', async () => {
      const outcomes = await socketIoOutcomes(server, (i) => `203.0.113.${i + 1}`);
      expect(outcomes).toEqual(Array(CLIENTS).fill('connected'));
    });

    it('lets them open Centrifuge WebSockets at once too', async () => {
      const statuses = await centrifugeUpgrades(server, (i) => `198.51.100.${i + 1}`);
      expect(statuses).toEqual(Array(CLIENTS).fill(101));
    });

    it('takes the address the balancer saw, so a client that writes its own X-Forwarded-For is still one address', async () => {
      // The client sends "random, ..." and the balancer appends the address it saw: only that one counts.
      const outcomes = await socketIoOutcomes(server, (i) => `10.9.${i}.1, 192.0.2.77`);
      expect(count(outcomes, 'connected')).toBeLessThan(CLIENTS);
      expect(outcomes.filter((o) => o !== 'connected')[0]).toContain('Too many connections from this address');
    });
  });

  describe('unset', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('sqlite', LIMITS);
    });
    afterAll(() => server?.close());

    it('ignores a spoofed X-Forwarded-For on Socket.IO: one address, so most of 20 at once are refused', async () => {
      const outcomes = await socketIoOutcomes(server, (i) => `203.0.113.${i + 1}`);
      expect(count(outcomes, 'connected')).toBeLessThan(CLIENTS);
      expect(outcomes.filter((o) => o !== 'connected')[0]).toContain('Too many connections from this address');
    });

    it('ignores it on Centrifuge WebSockets too (429)', async () => {
      const statuses = await centrifugeUpgrades(server, (i) => `198.51.100.${i + 1}`);
      expect(count(statuses, 429)).toBeGreaterThan(0);
      expect(count(statuses, 101) + count(statuses, 429)).toBe(CLIENTS);
    });
  });

  describe('in the logs', () => {
    let trusting: ServerProcess;
    let plain: ServerProcess;
    const dirs = [mkdtempSync(path.join(os.tmpdir(), 'ordercast-trust-')), mkdtempSync(path.join(os.tmpdir(), 'ordercast-trust-'))];
    beforeAll(async () => {
      const env = { ORDERCAST_LOG_LEVEL: 'debug' };
      [trusting, plain] = await Promise.all([
        startServerProcess(['--no-demo', '--data-dir', dirs[0]!], { ...env, ORDERCAST_TRUST_PROXY: 'loopback' }),
        startServerProcess(['--no-demo', '--data-dir', dirs[1]!], env),
      ]);
    });
    afterAll(async () => {
      await Promise.all([trusting?.stop(), plain?.stop()]);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });

    const requestLines = (server: ServerProcess) =>
      server
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"request"'))
        .map((line) => JSON.parse(line));

    it('logs the client address from X-Forwarded-For when the proxy (here loopback) is trusted', async () => {
      await fetch(`${trusting.baseUrl}/healthz`, { headers: { 'x-forwarded-for': '203.0.113.50' } });
      await waitFor(() => requestLines(trusting).some((l) => l.url === '/healthz'), 'the request line');
      expect(requestLines(trusting).find((l) => l.url === '/healthz').ip).toBe('203.0.113.50');
    });

    it('logs the peer address, not the header, when no proxy is trusted', async () => {
      await fetch(`${plain.baseUrl}/healthz`, { headers: { 'x-forwarded-for': '203.0.113.50' } });
      await waitFor(() => requestLines(plain).some((l) => l.url === '/healthz'), 'the request line');
      expect(requestLines(plain).find((l) => l.url === '/healthz').ip).toBe('127.0.0.1');
      expect(plain.output()).not.toContain('203.0.113.50');
    });
  });

  it.each([
    ['true', 'would trust an X-Forwarded-For that any client can write'],
    ['*', 'would trust an X-Forwarded-For that any client can write'],
    ['99', 'a hop count must be from 1 to 32'],
    ['10.0.0.0/33', '"10.0.0.0/33" is not a hop count, an address, a CIDR range'],
    ['balancer.internal', '"balancer.internal" is not a hop count'],
  ])('refuses ORDERCAST_TRUST_PROXY=%s with a clear configuration error', (value, message) => {
    expect(() => loadConfig({}, { ORDERCAST_TRUST_PROXY: value })).toThrow(ConfigError);
    expect(() => loadConfig({}, { ORDERCAST_TRUST_PROXY: value })).toThrow(message);
  });

  it('walks X-Forwarded-For back through trusted hops only, as Fastify does', () => {
    const headers = { 'x-forwarded-for': '198.51.100.1, 10.0.0.5, 10.0.0.6' };
    const ranges = trustedProxyTest({ kind: 'ranges', ranges: ['10.0.0.0/8'] });
    expect(clientAddress('::ffff:10.0.0.7', headers, ranges)).toBe('198.51.100.1');
    expect(clientAddress('192.0.2.9', headers, ranges)).toBe('192.0.2.9');
    expect(clientAddress('10.0.0.7', headers, trustedProxyTest({ kind: 'hops', hops: 2 }))).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.7', headers, undefined)).toBe('10.0.0.7');
    expect(clientAddress('10.0.0.7', {}, ranges)).toBe('10.0.0.7');
  });

  it('reads hop counts, addresses, ranges and the named ranges', () => {
    expect(loadConfig({}, {}).trustProxy).toEqual({ kind: 'none' });
    expect(loadConfig({}, { ORDERCAST_TRUST_PROXY: '2' }).trustProxy).toEqual({ kind: 'hops', hops: 2 });
    expect(loadConfig({}, { ORDERCAST_TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,loopback, fd00::/8' }).trustProxy).toEqual({
      kind: 'ranges',
      ranges: ['10.0.0.0/8', '192.168.1.7', 'loopback', 'fd00::/8'],
    });
  });
});
