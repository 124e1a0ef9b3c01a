import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import pino from 'pino';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../src/core.js';
import { loadConfig } from '../src/config.js';
import { RateLimiter } from '../src/lib/rate-limiter.js';
import { HandshakeLimiter } from '../src/realtime/handshake-limiter.js';
import { authenticateHandshake } from '../src/realtime/socketio/socketio-auth.js';
import { testDialects } from './helpers/databases.js';
import { connectSocket, emitWithAck, waitFor } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('the rate limiter', () => {
  it('holds at most maxKeys buckets however many keys arrive, whatever their length', () => {
    const limiter = new RateLimiter(10, 20, 1_000);
    const long = 'k'.repeat(1024);
    for (let i = 0; i < 50_000; i++) limiter.take(`${long}${i}`);
    expect(limiter.size).toBe(1_000);
  });

  it('pushes out the least recently used bucket, and keeps a busy one', () => {
    const limiter = new RateLimiter(1, 2, 100);
    const now = Date.now();
    expect(limiter.take('busy', now).allowed).toBe(true);
    expect(limiter.take('busy', now).allowed).toBe(true);
    expect(limiter.take('busy', now).allowed).toBe(false);
    for (let i = 0; i < 500; i++) {
      limiter.take(`other-${i}`, now);
      // Used again and again: never the least recently used, so its bucket (empty) is kept.
      if (i % 50 === 0) expect(limiter.take('busy', now).allowed).toBe(false);
    }
    expect(limiter.size).toBe(100);
    for (let i = 0; i < 200; i++) limiter.take(`idle-${i}`, now);
    // Not used for the last 200 keys: pushed out, and a new bucket is full.
    expect(limiter.take('busy', now).allowed).toBe(true);
  });
});

describe('memory an attacker can grow', () => {
  let dir: string;
  let core: Core;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-memory-'));
    core = await createCore(loadConfig({ dataDir: dir }, {}), { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await core?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts handshakes with junk credentials by address only: no bucket per junk key', async () => {
    const limiter = new HandshakeLimiter(1_000_000);
    const junk = (i: number) => `sk_${String(i).padStart(8, '0')}${'x'.repeat(60 * 1024)}`;
    for (let i = 0; i < 500; i++) {
      await expect(authenticateHandshake(core.auth, limiter, '203.0.113.7', { apiKey: junk(i) })).rejects.toMatchObject({ code: 'unauthorized' });
    }
    expect(limiter.size).toBe(1);
    const project = await core.projects.create({ name: 'Valid', lifecycle: 'onramp' });
    await authenticateHandshake(core.auth, limiter, '203.0.113.7', { apiKey: project.secretKey });
    expect(limiter.size).toBe(2);
  });

  it('remembers unknown project ids in tokens for a short while, in a bounded cache', async () => {
    const lookups: string[] = [];
    const original = core.projects.tokenSecrets.bind(core.projects);
    core.projects.tokenSecrets = (projectId: string) => {
      lookups.push(projectId);
      return original(projectId);
    };
    try {
      const forged = (pid: string) =>
        new SignJWT({ pid }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime('1h').sign(new TextEncoder().encode('guess'));
      const same = await forged('prj_doesnotexist');
      for (let i = 0; i < 200; i++) await expect(core.auth.verifyUserToken(same)).rejects.toMatchObject({ code: 'invalid_token' });
      expect(lookups.filter((p) => p === 'prj_doesnotexist')).toHaveLength(1);
      // Many different ids: each looked up once, and the cache stays bounded.
      for (let i = 0; i < 12_000; i++) await core.auth.verifyUserToken(await forged(`prj_${i}`)).catch(() => {});
      expect(core.auth.unknownProjectCacheSize).toBeLessThanOrEqual(10_000);
      // An id far longer than any project id is refused without a lookup.
      await expect(core.auth.verifyUserToken(await forged('p'.repeat(10_000)))).rejects.toMatchObject({ code: 'invalid_token' });
      expect(lookups.some((p) => p.length > 100)).toBe(false);
    } finally {
      core.projects.tokenSecrets = original;
    }
  });
});

describe.each(testDialects)('Socket.IO backpressure (%s)', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WS_MAX_BUFFERED_BYTES: String(64 * 1024), ORDERCAST_WEBHOOK_DISPATCH: 'false' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('disconnects a subscriber that stops reading instead of buffering without limit; it reconnects by itself', async () => {
    const project = await server.createProject('store');
    const socket: Socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey }, { reconnection: true, reconnectionDelay: 50 });
    try {
      expect(await emitWithAck(socket, 'subscribe:project')).toMatchObject({ subscribed: true });
      const reasons: string[] = [];
      socket.on('disconnect', (reason) => reasons.push(reason));
      // The client stops reading its socket: the kernel's buffers fill, then the server's.
      const tcp = (socket.io.engine.transport as any).ws._socket;
      tcp.pause();
      const metadata = { blob: 'm'.repeat(15 * 1024) };
      let created = 0;
      // Far more than the kernel buffers hold: several megabytes of updates.
      while (server.app.socketio.connectionCount > 0 && created < 2_000) {
        const batch = Array.from({ length: 20 }, () => server.request('POST', '/api/v2/orders', { key: project.secretKey, body: { metadata } }));
        for (const response of await Promise.all(batch)) expect(response.status).toBe(201);
        created += 20;
      }
      expect(server.app.socketio.connectionCount).toBe(0);
      tcp.resume();
      await waitFor(() => reasons.length > 0, 'the client to see the disconnect');
      expect(reasons[0]).toMatch(/transport (close|error)/);
      // A cut-off client is not told to stay away: socket.io-client reconnects by itself.
      await waitFor(() => socket.connected, 'the reconnect');
    } finally {
      socket.close();
    }
  });
});
