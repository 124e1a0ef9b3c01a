import http from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { createOrder, emitWithAck, setStatus, waitFor } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const LOOP = { name: 'loop', statuses: ['a', 'b', 'done'], initial: ['a'], final: ['done'], transitions: { a: ['b', 'done'], b: ['a', 'done'] } };

/** A project stream on a connection of its own, recording the ids of the updates it receives. */
function projectStream(server: TestServer, secretKey: string, lastEventId?: string) {
  const ids: string[] = [];
  let status = 0;
  const headers: Record<string, string> = { authorization: `Bearer ${secretKey}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) };
  const request = http.get(`${server.baseUrl}/api/v2/stream`, { headers, agent: false }, (response) => {
    status = response.statusCode!;
    let buffer = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(message)?.[1];
        if (id !== undefined && message.includes('event: order.update')) ids.push(id);
        end = buffer.indexOf('\n\n');
      }
    });
  });
  request.on('error', () => {});
  return {
    ids,
    get status() {
      return status;
    },
    close: () => request.destroy(),
  };
}

/** Counts the log reads of one project's events (catching up, pages), apart from the follower's reads of the whole log. */
function countProjectReads(server: TestServer): { readonly count: number; stop(): void } {
  const log = server.app.store.log;
  const original = log.after;
  let count = 0;
  log.after = function (this: typeof log, ...args: Parameters<typeof original>) {
    if (args[2] !== undefined) count++;
    return original.apply(this, args);
  } as typeof original;
  return {
    get count() {
      return count;
    },
    stop: () => {
      log.after = original;
    },
  };
}

describe.each(testDialects)('one project feed for every channel (%s)', (dialect) => {
  let server: TestServer;
  let project: CreatedProject;

  beforeAll(async () => {
    server = await startTestServer(dialect, {
      ORDERCAST_SSE_MAX_STREAMS: '5000',
      ORDERCAST_WS_HANDSHAKE_RATE: '0',
      ORDERCAST_WS_MESSAGE_RATE: '0',
      ORDERCAST_RATE_LIMIT: '0',
    });
    project = await server.createProject(LOOP);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves 1,000 open project feeds (SSE and Socket.IO) from the hub: no database read per event beyond the follower', async () => {
    const streams = Array.from({ length: 500 }, () => projectStream(server, project.secretKey));
    const sockets: Socket[] = [];
    const received: number[] = [];
    try {
      for (let batch = 0; batch < 10; batch++) {
        const connecting: Socket[] = [];
        for (let i = 0; i < 50; i++) {
          const socket = io(`${server.baseUrl}/ws`, { auth: { apiKey: project.secretKey }, transports: ['websocket'], forceNew: true, reconnection: false });
          const at = received.push(0) - 1;
          socket.on('order:update', () => received[at]!++);
          sockets.push(socket);
          connecting.push(socket);
        }
        await Promise.all(connecting.map((socket) => emitWithAck(socket, 'subscribe:project')));
      }
      await waitFor(() => streams.every((stream) => stream.status === 200) && server.app.sse.openHolders === 1, 'the 500 streams to open', 30_000);

      const reads = countProjectReads(server);
      const orderId = await createOrder(server, project.secretKey);
      for (let i = 0; i < 9; i++) await setStatus(server, project.secretKey, orderId, i % 2 === 0 ? 'b' : 'a');
      await waitFor(() => streams.every((stream) => stream.ids.length === 10) && received.every((n) => n === 10), 'ten events on every feed', 30_000);
      reads.stop();
      expect(reads.count).toBe(0);
      // Each once, in order, and the same ids on every stream.
      expect(new Set(streams.map((stream) => stream.ids.join())).size).toBe(1);
      expect(new Set(streams[0]!.ids).size).toBe(10);
      expect(received.every((n) => n === 10)).toBe(true);
    } finally {
      for (const stream of streams) stream.close();
      for (const socket of sockets) socket.close();
    }
    await waitFor(() => server.app.sse.openHolders === 0 && server.app.socketio.connectionCount === 0, 'every feed to close', 30_000);
  });

  it('a project feed opened and dropped 1,000 times while changes flow leaks no hub listener', async () => {
    const baseline = server.app.hub.listenerCount;
    const orderId = await createOrder(server, project.secretKey);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await setStatus(server, project.secretKey, orderId, i % 2 === 0 ? 'b' : 'a');
    })();
    try {
      const cursor = (await server.request('GET', '/api/v2/events?after=latest', { key: project.secretKey })).body.nextCursor as string;
      // SSE, twenty at a time, every other one resuming from a cursor (so catching up from the log while live events arrive).
      for (let batch = 0; batch < 50; batch++) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const stream = projectStream(server, project.secretKey, i % 2 === 0 ? cursor : undefined);
            await waitFor(() => stream.status === 200, 'the stream to open', 30_000);
            stream.close();
          }),
        );
      }
      // Socket.IO: subscribe, unsubscribe, resubscribe, on one connection.
      const socket = io(`${server.baseUrl}/ws`, { auth: { apiKey: project.secretKey }, transports: ['websocket'], forceNew: true, reconnection: false });
      try {
        for (let i = 0; i < 1000; i++) {
          socket.emit('subscribe:project');
          await emitWithAck(socket, 'unsubscribe:project');
        }
      } finally {
        socket.close();
      }
      // GET /events long-polls, every other one given up by its client.
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const poll = new AbortController();
          const answer = fetch(`${server.baseUrl}/api/v2/events?after=${cursor}&waitForChange=30&limit=1`, {
            headers: { authorization: `Bearer ${project.secretKey}` },
            signal: poll.signal,
          }).then(
            (response) => response.status,
            () => 'aborted',
          );
          if (i % 2 === 0) poll.abort();
          expect([200, 'aborted']).toContain(await answer);
        }),
      );
    } finally {
      writing = false;
      await writer;
    }
    await waitFor(() => server.app.sse.openHolders === 0 && server.app.socketio.connectionCount === 0, 'every feed to close', 30_000);
    await waitFor(() => server.app.hub.listenerCount === baseline, `the hub back to ${baseline} listeners`, 30_000);
  });
});
