import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './helpers/databases.js';
import { connectSocket, createOrder, emitWithAck, setStatus, userToken, waitFor } from './helpers/realtime.js';
import { holdStream, rawStream, RecordingEventSource } from './helpers/sse.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A lifecycle that can loop, so one order can take many transitions. */
const LOOP = { name: 'loop', statuses: ['a', 'b', 'done'], initial: ['a'], final: ['done'], transitions: { a: ['b', 'done'], b: ['a', 'done'] } };

describe.each(testDialects)('Server-Sent Events (%s)', (dialect) => {
  let server: TestServer;
  let secretKey: string;
  let publishableKey: string;
  const open: RecordingEventSource[] = [];
  const follow = (url: string, options?: ConstructorParameters<typeof RecordingEventSource>[1]) => {
    const source = new RecordingEventSource(url, options);
    open.push(source);
    return source;
  };

  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_SSE_HEARTBEAT: '200ms' });
    const project = await server.createProject(LOOP);
    ({ secretKey, publishableKey } = project);
  });
  afterEach(() => {
    for (const source of open.splice(0)) source.close();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('streams an order: current state first, then each version once, the same JSON as Socket.IO, ending after the final one with 204 on reconnect', async () => {
    const orderId = await createOrder(server, secretKey, { userExternalId: 'u1' });
    await setStatus(server, secretKey, orderId, 'b');
    const socket = await connectSocket(server.baseUrl, { apiKey: secretKey });
    const socketUpdates: any[] = [];
    socket.on('order:update', (update) => socketUpdates.push(update));
    await emitWithAck(socket, 'subscribe:order', { orderId });

    const sse = follow(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { bearer: secretKey });
    await waitFor(() => sse.versions.length === 1, 'the current state');
    expect(sse.messages[0]).toMatchObject({ id: '2', event: 'order.update', data: { orderId, version: 2, status: 'b', previousStatus: 'a' } });

    for (const status of ['a', 'b', 'done']) await setStatus(server, secretKey, orderId, status);
    await waitFor(() => sse.closed, 'EventSource to stop after the final version');
    expect(sse.versions).toEqual([2, 3, 4, 5]);
    expect(sse.ids).toEqual(['2', '3', '4', '5']);
    // The reconnect after the stream ended carried Last-Event-ID 5: the answer was 204, so EventSource stopped.
    expect(sse.errors.at(-1)?.code).toBe(204);
    await waitFor(() => socketUpdates.length === 3, 'the socket updates');
    expect(sse.messages.slice(1).map((m) => m.data)).toEqual(socketUpdates);
    socket.close();
  });

  it('resumes after Last-Event-ID with the versions from the log, no gap and no repeat; a final order at its last version answers 204', async () => {
    const orderId = await createOrder(server, secretKey);
    for (const status of ['b', 'a', 'b']) await setStatus(server, secretKey, orderId, status);
    const sse = follow(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { bearer: secretKey, lastEventId: '1' });
    await waitFor(() => sse.versions.length === 3, 'versions 2 to 4');
    await setStatus(server, secretKey, orderId, 'done');
    await waitFor(() => sse.closed, 'the end of the stream');
    expect(sse.versions).toEqual([2, 3, 4, 5]);

    const finished = await rawStream(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { authorization: `Bearer ${secretKey}`, 'last-event-id': '5' });
    expect(finished.status).toBe(204);
    const beyond = await rawStream(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { authorization: `Bearer ${secretKey}`, 'last-event-id': '6' });
    expect(beyond.status).toBe(400);
    expect(beyond.body.error.code).toBe('invalid_last_event_id');
  });

  it("follows a user's orders with a user token in ?token=, ids being channel offsets, and resumes by offset", async () => {
    const token = await userToken(server, secretKey, 'sse-user');
    const other = await createOrder(server, secretKey, { userExternalId: 'someone-else' });
    const sse = follow(`${server.baseUrl}/api/v2/stream?token=${encodeURIComponent(token)}`);
    await waitFor(() => sse.opened === 1, 'the stream to open');
    const first = await createOrder(server, secretKey, { userExternalId: 'sse-user' });
    await setStatus(server, secretKey, other, 'b');
    const second = await createOrder(server, secretKey, { userExternalId: 'sse-user' });
    await setStatus(server, secretKey, first, 'b');
    await waitFor(() => sse.messages.length === 3, 'three events of the user');
    expect(sse.messages.map((m) => [m.id, m.data.orderId, m.data.version])).toEqual([
      ['1', first, 1],
      ['2', second, 1],
      ['3', first, 2],
    ]);

    const resumed = follow(`${server.baseUrl}/api/v2/stream?token=${encodeURIComponent(token)}`, { lastEventId: '1' });
    await waitFor(() => resumed.messages.length === 2, 'the events after offset 1');
    expect(resumed.ids).toEqual(['2', '3']);
    const beyond = await rawStream(`${server.baseUrl}/api/v2/stream?token=${encodeURIComponent(token)}`, { 'last-event-id': '4' });
    expect(beyond.status).toBe(400);
    expect(beyond.body.error.code).toBe('invalid_last_event_id');
  });

  it("follows the whole project with a secret key, ids being the events feed's cursors, and resumes from one", async () => {
    const sse = follow(`${server.baseUrl}/api/v2/stream`, { bearer: secretKey });
    await waitFor(() => sse.opened === 1, 'the stream to open');
    const a = await createOrder(server, secretKey);
    const b = await createOrder(server, secretKey, { userExternalId: 'u2' });
    await setStatus(server, secretKey, a, 'b');
    await waitFor(() => sse.messages.length === 3, 'three project events');
    expect(sse.messages.map((m) => [m.data.orderId, m.data.version])).toEqual([
      [a, 1],
      [b, 1],
      [a, 2],
    ]);
    // The same cursors GET /events hands out: resuming after the first gives the other two.
    const feed = await server.request('GET', `/api/v2/events?after=${sse.messages[0]!.id}`, { key: secretKey });
    expect(feed.body.data.map((e: any) => [e.orderId, e.version])).toEqual([
      [b, 1],
      [a, 2],
    ]);
    const resumed = follow(`${server.baseUrl}/api/v2/stream`, { bearer: secretKey, lastEventId: sse.messages[0]!.id });
    await waitFor(() => resumed.messages.length === 2, 'the events after the first cursor');
    expect(resumed.ids).toEqual(sse.ids.slice(1));
    const forged = await rawStream(`${server.baseUrl}/api/v2/stream`, { authorization: `Bearer ${secretKey}`, 'last-event-id': 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_last_event_id');
  });

  it('sends heartbeat comments on an idle stream, with the CORS headers of the API', async () => {
    const orderId = await createOrder(server, secretKey);
    const text = await new Promise<string>((resolve, reject) => {
      const headers = { authorization: `Bearer ${secretKey}`, origin: 'https://shop.example' };
      const request = http.get(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { headers, agent: false }, (response) => {
        expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        expect(response.headers['cache-control']).toBe('no-store');
        // Readable from a checkout page on the merchant's own domain.
        expect(response.headers['access-control-allow-origin']).toBe('*');
        let seen = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          seen += chunk;
          if (seen.includes(': heartbeat')) {
            request.destroy();
            resolve(seen);
          }
        });
      });
      request.on('error', reject);
    });
    expect(text).toContain(`id: 1\nevent: order.update\ndata: {`);
    // The SDK resumes with a Last-Event-ID header: a cross-origin page's preflight allows it.
    const preflight = await fetch(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization, last-event-id' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('last-event-id');
  });

  describe('bad inputs', () => {
    it("refuses a Last-Event-ID that is not a number, API keys in ?token=, bad tokens, publishable keys and other users' orders", async () => {
      const orderId = await createOrder(server, secretKey, { userExternalId: 'owner' });
      const url = `${server.baseUrl}/api/v2/orders/${orderId}/stream`;
      const notNumber = await rawStream(url, { authorization: `Bearer ${secretKey}`, 'last-event-id': 'abc' });
      expect([notNumber.status, notNumber.body.error.code]).toEqual([400, 'invalid_last_event_id']);
      const negative = await rawStream(url, { authorization: `Bearer ${secretKey}`, 'last-event-id': '-1' });
      expect([negative.status, negative.body.error.code]).toEqual([400, 'invalid_last_event_id']);

      const keyInQuery = await rawStream(`${url}?token=${secretKey}`);
      expect([keyInQuery.status, keyInQuery.body.error.code]).toEqual([400, 'key_in_query']);
      expect(JSON.stringify(keyInQuery.body)).not.toContain(secretKey);
      const keyInQueryToo = await rawStream(`${server.baseUrl}/api/v2/stream?token=${secretKey}`, { authorization: `Bearer ${secretKey}` });
      expect([keyInQueryToo.status, keyInQueryToo.body.error.code]).toEqual([400, 'key_in_query']);

      const none = await rawStream(url);
      expect([none.status, none.body.error.code]).toEqual([401, 'unauthorized']);
      const forged = await rawStream(`${url}?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvd25lciJ9.c2lnbmF0dXJl`);
      expect([forged.status, forged.body.error.code]).toEqual([401, 'invalid_token']);
      const publishable = await rawStream(url, { authorization: `Bearer ${publishableKey}` });
      expect([publishable.status, publishable.body.error.code]).toEqual([403, 'forbidden']);

      const stranger = await userToken(server, secretKey, 'stranger');
      const notTheirs = await rawStream(`${url}?token=${encodeURIComponent(stranger)}`);
      expect([notTheirs.status, notTheirs.body.error.code]).toEqual([404, 'order_not_found']);
      const owner = await userToken(server, secretKey, 'owner');
      const theirs = await rawStream(`${url}?token=${encodeURIComponent(owner)}`);
      expect(theirs.status).toBe(200);
      const missing = await rawStream(`${server.baseUrl}/api/v2/orders/ord_nope/stream`, { authorization: `Bearer ${secretKey}` });
      expect([missing.status, missing.body.error.code]).toEqual([404, 'order_not_found']);
      // HEAD would open a stream with nowhere to send it: not served.
      const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${secretKey}` } });
      expect(head.status).toBe(404);
      await waitFor(() => server.app.sse.openHolders === 0, 'no stream left open');
    });

    it('1,000 streams opened by one credential: the first 100 open, the rest get 429 limit_exceeded, and closing gives the slots back', async () => {
      const orderId = await createOrder(server, secretKey);
      const token = await userToken(server, secretKey, 'greedy');
      const streams = await Promise.all(Array.from({ length: 1000 }, () => holdStream(`${server.baseUrl}/api/v2/stream?token=${encodeURIComponent(token)}`)));
      expect(streams.filter((s) => s.status === 200)).toHaveLength(100);
      const refused = streams.filter((s) => s.status !== 200);
      expect(refused).toHaveLength(900);
      expect(new Set(refused.map((s) => `${s.status} ${s.body.error.code}`))).toEqual(new Set(['429 limit_exceeded']));
      // Another credential is not affected.
      expect((await rawStream(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { authorization: `Bearer ${secretKey}` })).status).toBe(200);

      for (const stream of streams) stream.close();
      await waitFor(() => server.app.sse.openHolders === 0, 'every slot to be given back');
      expect((await rawStream(`${server.baseUrl}/api/v2/stream?token=${encodeURIComponent(token)}`)).status).toBe(200);
    });
  });

  it('closes the stream when its user token expires: an auth.error event, then 401 on the reconnect, so EventSource stops', async () => {
    const orderId = await createOrder(server, secretKey, { userExternalId: 'brief' });
    const token = await userToken(server, secretKey, 'brief', 2);
    const sse = follow(`${server.baseUrl}/api/v2/orders/${orderId}/stream?token=${encodeURIComponent(token)}`);
    await waitFor(() => sse.versions.length === 1, 'the current state');
    await waitFor(() => sse.closed, 'the stream to end for good', 10_000);
    expect(sse.messages.at(-1)).toMatchObject({ event: 'auth.error', data: { code: 'token_expired' } });
    expect(sse.errors.at(-1)?.code).toBe(401);
    await waitFor(() => server.app.sse.openHolders === 0, 'the slot to be given back');
  });
});

describe('Server-Sent Events: a client that never reads', () => {
  let server: TestServer;
  afterAll(async () => {
    await server?.close();
  });

  it('is cut off once its buffer is full, and the server keeps serving', async () => {
    server = await startTestServer('sqlite', { ORDERCAST_WS_MAX_BUFFERED_BYTES: String(64 * 1024) });
    const { secretKey } = await server.createProject(LOOP);
    const metadata = { blob: 'x'.repeat(15_000) };
    const orderId = await createOrder(server, secretKey, { metadata });
    const url = new URL(`${server.baseUrl}/api/v2/orders/${orderId}/stream`);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${secretKey}\r\nAccept: text/event-stream\r\n\r\n`);
    // Never read: data piles up in the kernel buffers, then in the server's.
    socket.pause();
    await waitFor(() => server.app.sse.openHolders === 1, 'the stream to open');
    let writes = 0;
    while (server.app.sse.openHolders > 0) {
      if (writes >= 3000) throw new Error('the stream was never cut off');
      await setStatus(server, secretKey, orderId, writes++ % 2 === 0 ? 'b' : 'a');
    }
    expect(writes).toBeGreaterThan(3);
    // Still serving everyone else.
    const fine = await server.request('GET', `/api/v2/orders/${orderId}`, { key: secretKey });
    expect(fine.body.version).toBe(writes + 1);
    socket.destroy();
  });
});

describe('Server-Sent Events: shutting down with a client that never reads', () => {
  it('cuts the stream off after a short grace instead of waiting on it for ever', async () => {
    const server = await startTestServer('sqlite', { ORDERCAST_WS_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024) });
    const { secretKey } = await server.createProject(LOOP);
    const orderId = await createOrder(server, secretKey, { metadata: { blob: 'x'.repeat(15_000) } });
    const url = new URL(`${server.baseUrl}/api/v2/orders/${orderId}/stream`);
    const socket = net.connect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${secretKey}\r\n\r\n`);
    socket.pause();
    await waitFor(() => server.app.sse.openHolders === 1, 'the stream to open');
    // More than the kernel's socket buffers hold: the rest waits in the server for a reader that never comes.
    for (let i = 0; i < 800; i++) await setStatus(server, secretKey, orderId, i % 2 === 0 ? 'b' : 'a');
    const closing = server.close().then(() => 'closed');
    const outcome = await Promise.race([closing, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 8000))]);
    socket.destroy();
    await closing;
    expect(outcome).toBe('closed');
  });
});
