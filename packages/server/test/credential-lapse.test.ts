import type { Centrifuge } from 'centrifuge';
import { decodeJwt } from 'jose';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import {
  connectSocket,
  createOrder,
  emitWithAck,
  expiredUserToken,
  newCentrifuge,
  rawCentrifugeSocket,
  setStatus,
  userToken,
  waitFor,
} from './helpers/realtime.js';
import { runCli } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** The promise: within 5 s of the moment a credential lapses, the connection has lost access. */
const LAPSE_BOUND_MS = 5_000;

function expiryMs(token: string): number {
  return (decodeJwt(token).exp as number) * 1000;
}

/** Records how a Socket.IO connection ended: the `auth:error` reason, the disconnect reason, and when. */
function watchEnd(socket: Socket) {
  const seen: { authError?: { code: string; message: string }; reason?: string; at?: number } = {};
  socket.on('auth:error', (payload) => (seen.authError = payload));
  socket.on('disconnect', (reason) => {
    seen.reason = reason;
    seen.at = Date.now();
  });
  return seen;
}

describe.each(testDialects)('open sockets lose access with their credentials (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;
  const sockets: Socket[] = [];
  const clients: Centrifuge[] = [];

  beforeAll(async () => {
    server = await startTestServer(dialect);
    project = await server.createProject('store');
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await server?.close();
  });

  const databaseFlags = () => (dialect === 'sqlite' ? ['--data-dir', server.dataDir] : ['--database-url', server.databaseUrl as string]);

  describe('Socket.IO', () => {
    it('disconnects a user-token connection when the token expires, with token_expired', async () => {
      const orderId = await createOrder(server, project.secretKey, { userExternalId: 'expiring' });
      const token = await userToken(server, project.secretKey, 'expiring', 2);
      const socket = await connectSocket(server.baseUrl, { apiKey: project.publishableKey, token });
      sockets.push(socket);
      const end = watchEnd(socket);
      expect((await emitWithAck(socket, 'subscribe:order', { orderId })).id).toBe(orderId);
      await waitFor(() => end.reason !== undefined, 'the disconnect', expiryMs(token) - Date.now() + LAPSE_BOUND_MS);
      expect(end.at! - expiryMs(token)).toBeGreaterThanOrEqual(-50);
      expect(end.at! - expiryMs(token)).toBeLessThanOrEqual(LAPSE_BOUND_MS);
      expect(end.authError).toEqual({ code: 'token_expired', message: expect.stringMatching(/expired/) });
      // A server-side disconnect: socket.io-client does not retry with the same credentials by itself.
      expect(end.reason).toBe('io server disconnect');
      await expect(connectSocket(server.baseUrl, { apiKey: project.publishableKey, token })).rejects.toMatchObject({ data: { code: 'token_expired' } });
    });

    it('disconnects a secret-key connection within 5 s of the key being revoked from another process', async () => {
      const own = await server.createProject('store');
      const socket = await connectSocket(server.baseUrl, { apiKey: own.secretKey });
      sockets.push(socket);
      const end = watchEnd(socket);
      expect(await emitWithAck(socket, 'subscribe:project')).toMatchObject({ subscribed: true });
      const updates: unknown[] = [];
      socket.on('order:update', (u) => updates.push(u));
      // The CLI is another process: the server learns of the rotation only from the database.
      const result = runCli(['projects', 'rotate-key', '--project', own.project.id, '--kind', 'secret', '--grace', '0', '--json', ...databaseFlags()]);
      expect(result.code).toBe(0);
      const revokedAt = Date.parse(JSON.parse(result.stdout).oldKeysExpireAt);
      await waitFor(() => end.reason !== undefined, 'the disconnect', LAPSE_BOUND_MS + 1_000);
      expect(end.at! - revokedAt).toBeLessThanOrEqual(LAPSE_BOUND_MS);
      expect(end.authError).toEqual({ code: 'unauthorized', message: expect.stringMatching(/rotated or revoked/) });
      expect(end.reason).toBe('io server disconnect');
      // Nothing more reaches it, and the old key cannot connect again.
      await createOrder(server, JSON.parse(result.stdout).key, {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(updates).toEqual([]);
      // New connections are refused once the server's key cache (5 s) has caught up.
      let refusal: any;
      await waitFor(
        async () => {
          refusal = await connectSocket(server.baseUrl, { apiKey: own.secretKey }).then(
            (s) => (sockets.push(s), undefined),
            (error) => error,
          );
          return refusal !== undefined;
        },
        'the old key to be refused',
        revokedAt + LAPSE_BOUND_MS + 500 - Date.now(),
      );
      expect(refusal.data.code).toBe('unauthorized');
    });

    it('keeps a rotated key connected through its grace, then disconnects it', async () => {
      const own = await server.createProject('store');
      const socket = await connectSocket(server.baseUrl, { apiKey: own.secretKey });
      sockets.push(socket);
      const end = watchEnd(socket);
      const { oldKeysExpireAt } = await server.app.projects.rotateKey(own.project.id, 'secret', 3);
      const graceEnds = Date.parse(oldKeysExpireAt);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(socket.connected).toBe(true);
      expect(await emitWithAck(socket, 'subscribe:project')).toMatchObject({ subscribed: true });
      await waitFor(() => end.reason !== undefined, 'the disconnect', graceEnds - Date.now() + LAPSE_BOUND_MS);
      expect(end.at! - graceEnds).toBeGreaterThanOrEqual(-50);
      expect(end.authError?.code).toBe('unauthorized');
    });

    it('disconnects user-token connections when the token secret is rotated out', async () => {
      const own = await server.createProject('store');
      const token = await userToken(server, own.secretKey, 'u1', 600);
      const socket = await connectSocket(server.baseUrl, { apiKey: token });
      sockets.push(socket);
      const end = watchEnd(socket);
      const rotatedAt = Date.now();
      await server.app.projects.rotateTokenSecret(own.project.id, 0);
      await waitFor(() => end.reason !== undefined, 'the disconnect', LAPSE_BOUND_MS + 1_000);
      expect(end.at! - rotatedAt).toBeLessThanOrEqual(LAPSE_BOUND_MS);
      expect(end.authError).toEqual({ code: 'token_expired', message: expect.stringMatching(/rotated out/) });
    });
  });

  describe('Centrifuge', () => {
    it('closes a data.auth connection (reference 003) when its token expires: 3500 "token expired" in the end', async () => {
      const token = await userToken(server, project.secretKey, 'ref-expiring', 2);
      const client = newCentrifuge(server, { user_external_id: 'ref-expiring', auth: token, project_id: project.project.id });
      clients.push(client);
      const connecting: number[] = [];
      client.on('connecting', (ctx) => connecting.push(ctx.code));
      const ended = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
        client.on('disconnected', (ctx) => resolve({ code: ctx.code, reason: ctx.reason, at: Date.now() })),
      );
      client.connect();
      await new Promise<void>((resolve) => client.once('connected', () => resolve()));
      const end = await ended;
      expect(end.at - expiryMs(token)).toBeLessThanOrEqual(LAPSE_BOUND_MS);
      // First the live connection is closed as expired (3005), then the reconnect is refused for good.
      expect(connecting).toContain(3005);
      expect(end).toMatchObject({ code: 3500, reason: expect.stringMatching(/^token expired/) });
    });

    it('refreshes the token the protocol way (getToken, refresh command) and stays connected past the first expiry', async () => {
      const user = 'refreshing';
      const orderId = await createOrder(server, project.secretKey, { userExternalId: user });
      const issued: string[] = [];
      const client = newCentrifuge(
        server,
        {},
        {
          getToken: async () => {
            // Short tokens: the server asks for a refresh a second in (its margin is at least 2 s).
            const token = await userToken(server, project.secretKey, user, 3);
            issued.push(token);
            return token;
          },
        },
      );
      clients.push(client);
      const connecting: number[] = [];
      const publications: any[] = [];
      client.on('connecting', (ctx) => connecting.push(ctx.code));
      client.on('publication', (ctx) => publications.push(ctx.data));
      client.connect();
      await new Promise<void>((resolve) => client.once('connected', () => resolve()));
      const connectedWith = connecting.length;
      const firstExpiry = expiryMs(issued[0]!);
      // Past the first token's expiry: the client refreshed on the live connection. The lapse
      // timer fires at the expiry itself, so a missed refresh would have closed it by now.
      await waitFor(() => Date.now() > firstExpiry + 1_000, 'the first token to be expired', 10_000);
      expect(client.state).toBe('connected');
      expect(connecting.length).toBe(connectedWith);
      expect(issued.length).toBeGreaterThanOrEqual(2);
      await setStatus(server, project.secretKey, orderId, 'paid');
      await waitFor(() => publications.some((p) => p.order_id === orderId && p.status === 'paid'), 'the publication after the refresh');
    });

    it('announces expires/ttl only to token connections, and checks who a refresh is for', async () => {
      const token = await userToken(server, project.secretKey, 'raw-user', 600);
      const byData = await rawCentrifugeSocket(server);
      byData.send(JSON.stringify({ id: 1, connect: { data: { user_external_id: 'raw-user', auth: token, project_id: project.project.id } } }));
      const dataReply = await byData.next((m) => m.id === 1);
      expect(dataReply.connect.client).toBeTruthy();
      expect(dataReply.connect).not.toHaveProperty('expires');
      byData.ws.close();

      const byToken = await rawCentrifugeSocket(server);
      byToken.send(JSON.stringify({ id: 1, connect: { token, name: 'js' } }));
      const tokenReply = await byToken.next((m) => m.id === 1);
      expect(tokenReply.connect).toMatchObject({ expires: true });
      expect(tokenReply.connect.ttl).toBeGreaterThan(500);
      expect(tokenReply.connect.ttl).toBeLessThan(600);
      expect(Object.keys(tokenReply.connect.subs)).toEqual([`orders:${project.project.id}:raw-user`]);
      const fresh = await userToken(server, project.secretKey, 'raw-user', 1200);
      byToken.send(JSON.stringify({ id: 2, refresh: { token: fresh } }));
      expect((await byToken.next((m) => m.id === 2)).refresh).toMatchObject({ client: tokenReply.connect.client, expires: true });
      const someoneElse = await userToken(server, project.secretKey, 'another-user', 600);
      byToken.send(JSON.stringify({ id: 3, refresh: { token: someoneElse } }));
      expect(await byToken.closed).toEqual({ code: 3500, reason: 'invalid token: the new token is for another user than the connection' });
    });

    it('answers an expired `token` with error 109: the client gets a new one from getToken and connects', async () => {
      const user = 'stale-token';
      const expired = await expiredUserToken(project, user);
      let calls = 0;
      const errors: number[] = [];
      const client = newCentrifuge(
        server,
        {},
        {
          token: expired,
          getToken: async () => {
            calls += 1;
            return userToken(server, project.secretKey, user, 600);
          },
        },
      );
      clients.push(client);
      client.on('error', (ctx) => errors.push(ctx.error.code));
      client.connect();
      await new Promise<void>((resolve) => client.once('connected', () => resolve()));
      expect(errors).toContain(109);
      expect(calls).toBe(1);
    });

    it('closes a token connection with 3005 when the token secret is rotated out; getToken brings it back', async () => {
      const own = await server.createProject('store');
      const user = 'rotated';
      let calls = 0;
      const client = newCentrifuge(
        server,
        {},
        {
          getToken: async () => {
            calls += 1;
            return userToken(server, own.secretKey, user, 600);
          },
        },
      );
      clients.push(client);
      const connecting: number[] = [];
      client.on('connecting', (ctx) => connecting.push(ctx.code));
      client.connect();
      await new Promise<void>((resolve) => client.once('connected', () => resolve()));
      const rotatedAt = Date.now();
      await server.app.projects.rotateTokenSecret(own.project.id, 0);
      await waitFor(() => connecting.includes(3005), 'the 3005 close', LAPSE_BOUND_MS + 1_000);
      expect(Date.now() - rotatedAt).toBeLessThanOrEqual(LAPSE_BOUND_MS + 100);
      await waitFor(() => client.state === 'connected' && calls >= 2, 'the reconnect with a new token');
    });
  });
});
