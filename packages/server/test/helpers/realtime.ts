import { Centrifuge, type Options as CentrifugeOptions } from 'centrifuge';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { TestServer } from './test-server.js';

/** Polls `check` until it returns true; fails with `what` after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function wsBase(baseUrl: string): string {
  return baseUrl.replace(/^http/, 'ws');
}

/** A socket.io-client connection to /ws that is connected (or rejects with the connect_error). */
export function connectSocket(baseUrl: string, auth: Record<string, unknown>, options: Record<string, unknown> = {}): Promise<Socket> {
  const socket = io(`${baseUrl}/ws`, { auth, transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export function emitWithAck<T = any>(socket: Socket, event: string, payload?: unknown): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, payload) as Promise<T>;
}

export function newCentrifuge(server: TestServer, data: Record<string, unknown>, options: Partial<CentrifugeOptions> = {}): Centrifuge {
  return new Centrifuge(`${wsBase(server.baseUrl)}/connection/websocket`, {
    data,
    websocket: WebSocket,
    minReconnectDelay: 50,
    maxReconnectDelay: 300,
    ...options,
  } as CentrifugeOptions);
}

/** Creates an order and returns its id. */
export async function createOrder(server: TestServer, secretKey: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await server.request('POST', '/api/v2/orders', { key: secretKey, body });
  if (res.status !== 201) throw new Error(`create order failed: ${res.status} ${res.text}`);
  return res.body.id as string;
}

export async function setStatus(server: TestServer, secretKey: string, orderId: string, status: string): Promise<void> {
  const res = await server.request('POST', `/api/v2/orders/${orderId}/status`, { key: secretKey, body: { status } });
  if (res.status !== 200) throw new Error(`transition to ${status} failed: ${res.status} ${res.text}`);
}

export async function userToken(server: TestServer, secretKey: string, userExternalId: string, expiresIn = 3600): Promise<string> {
  const res = await server.request('POST', '/api/v2/tokens', { key: secretKey, body: { userExternalId, expiresIn } });
  if (res.status !== 201) throw new Error(`token failed: ${res.status} ${res.text}`);
  return res.body.token as string;
}

/**
 * A user token that expired `secondsAgo` seconds ago, signed the way a merchant backend
 * signs one with the project's token secret: tests of refused expired tokens need not
 * wait for a real one to run out (the API issues tokens for at least a second).
 */
export async function expiredUserToken(project: { project: { id: string }; tokenSecret: string }, userExternalId: string, secondsAgo = 5): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ pid: project.project.id })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userExternalId)
    .setIssuedAt(now - secondsAgo - 60)
    .setExpirationTime(now - secondsAgo)
    .sign(new TextEncoder().encode(project.tokenSecret));
}

/** A raw WebSocket to the Centrifuge endpoint, for protocol-level checks the official client would never send. */
export async function rawCentrifugeSocket(server: TestServer): Promise<{
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  send(text: string): void;
  next(predicate?: (m: any) => boolean, ms?: number): Promise<any>;
}> {
  const ws = new WebSocket(`${wsBase(server.baseUrl)}/connection/websocket`);
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data) => {
    for (const line of data.toString().split('\n')) if (line.trim()) messages.push(JSON.parse(line));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let read = 0;
  return {
    ws,
    messages,
    closed,
    send: (text) => ws.send(text),
    async next(predicate = () => true, ms = 5000) {
      let found: any;
      await waitFor(
        () => {
          while (read < messages.length) {
            const m = messages[read++];
            if (predicate(m)) {
              found = m;
              return true;
            }
          }
          return false;
        },
        'a centrifuge message',
        ms,
      );
      return found;
    },
  };
}
