import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface GatewayProxy {
  baseUrl: string;
  /** Requests seen so far (path and query), sockets included. */
  requests: string[];
  /** Cut every Socket.IO connection and refuse new ones, as a firewall that blocks WebSockets would; REST still passes. */
  cutSockets(): void;
  restoreSockets(): void;
  /** Cut every Server-Sent Events stream (order links' too) and refuse new ones (a proxy that kills long responses); the rest of REST still passes. */
  cutStreams(): void;
  restoreStreams(): void;
  close(): Promise<void>;
}

const isSocketPath = (path: string) => path.startsWith('/socket.io/');
/** An order's or the project's stream, or an order link's (`/o/{token}/events`). */
const isStreamPath = (path: string) => /^\/(api\/v2\/(orders\/[^/?]+\/)?stream|o\/[^/?]+\/events)(\?|$)/.test(path);

/**
 * A real HTTP proxy in front of a real Ordercast server: every request and every
 * WebSocket upgrade is forwarded as is, until `cutSockets()` makes the Socket.IO
 * endpoint unreachable while the REST API stays up.
 */
export async function startGatewayProxy(upstream: string): Promise<GatewayProxy> {
  const target = new URL(upstream);
  const port = Number(target.port);
  const requests: string[] = [];
  const liveSockets = new Set<net.Socket>();
  const liveResponses = new Set<http.ServerResponse>();
  let reachable = true;
  let streamsReachable = true;
  const liveStreams = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    if (isSocketPath(path)) {
      if (!reachable) return req.socket.destroy();
      liveResponses.add(res);
      res.once('close', () => liveResponses.delete(res));
    }
    if (isStreamPath(path)) {
      if (!streamsReachable) return req.socket.destroy();
      liveStreams.add(res);
      res.once('close', () => liveStreams.delete(res));
    }
    const forwarded = http.request({ host: target.hostname, port, method: req.method, path, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });

  server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    requests.push(req.url ?? '/');
    if (!reachable) return client.destroy();
    const upstreamSocket = net.connect(port, target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstreamSocket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstreamSocket.write(head);
      client.pipe(upstreamSocket).pipe(client);
    });
    for (const s of [client, upstreamSocket]) {
      liveSockets.add(s);
      s.on('error', () => {});
      s.once('close', () => {
        liveSockets.delete(s);
        client.destroy();
        upstreamSocket.destroy();
      });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${own}`,
    requests,
    cutSockets() {
      reachable = false;
      for (const s of liveSockets) s.destroy();
      for (const res of liveResponses) res.destroy();
    },
    restoreSockets() {
      reachable = true;
    },
    cutStreams() {
      streamsReachable = false;
      for (const res of liveStreams) res.destroy();
    },
    restoreStreams() {
      streamsReachable = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of liveSockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
