import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';

/** What the proxy does with the n-th request (1-based). */
export type Fault =
  | 'forward'
  /** Destroy the connection without an answer, like a flaky mobile network. */
  | 'drop'
  /** A captive portal or a misconfigured load balancer: HTML where JSON was expected. */
  | { html: string; status?: number }
  | { status: number; headers?: Record<string, string>; body?: string };

export interface FaultyProxy {
  baseUrl: string;
  /** The underlying server, to attach a Socket.IO server to. */
  server: http.Server;
  /** Requests seen so far, with their path and query. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A real HTTP server in front of a real Ordercast server, which misbehaves on purpose.
 * The client under test talks HTTP to it exactly as it would to a bad network.
 */
export async function startFaultyProxy(upstream: string, decide: (requestNumber: number, path: string) => Fault): Promise<FaultyProxy> {
  const requests: string[] = [];
  // Connections of its own to Ordercast, destroyed on close: an aborted request can leave the
  // shared pool holding a connection that never sent a request, and Node's server.close()
  // waits for such a connection until its headersTimeout.
  const upstreamPool = new Agent();
  const server = http.createServer(async (req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const fault = decide(requests.length, path);
    if (fault === 'drop') return req.socket.destroy();
    if (fault !== 'forward') {
      if ('html' in fault) {
        res.writeHead(fault.status ?? 200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(fault.html);
      }
      res.writeHead(fault.status, fault.headers);
      return res.end(fault.body ?? '');
    }
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    try {
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'if-none-match', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await undiciFetch(upstream + path, { headers, signal: controller.signal, dispatcher: upstreamPool });
      const body = Buffer.from(await answer.arrayBuffer());
      const passOn: Record<string, string> = {};
      for (const name of ['content-type', 'etag', 'retry-after']) {
        const value = answer.headers.get(name);
        if (value) passOn[name] = value;
      }
      res.writeHead(answer.status, passOn);
      res.end(body);
    } catch {
      res.destroy();
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    server,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => upstreamPool.destroy()),
  };
}
