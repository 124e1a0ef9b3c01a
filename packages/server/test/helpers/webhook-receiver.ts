import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface ReceiverReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the socket stays open until the receiver closes). */
  hang?: boolean;
  /** Stream this many bytes of body after the headers. */
  streamBytes?: number;
}

export type ReceiverHandler = (request: ReceivedRequest, index: number) => ReceiverReply | Promise<ReceiverReply>;

/** A real HTTP server on 127.0.0.1 that records every webhook it gets. */
export interface WebhookReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  setHandler(handler: ReceiverHandler): void;
  /** Resolves once `predicate` holds for the recorded requests, or fails after timeoutMs. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedRequest[]>;
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Streamed body bytes that the server managed to write before the client hung up. */
  bytesStreamed: number;
  close(): Promise<void>;
}

export async function startReceiver(
  handler: ReceiverHandler = () => ({ status: 200, body: '{"received":true}' }),
  path = '/webhook',
): Promise<WebhookReceiver> {
  let current = handler;
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const state = { bytesStreamed: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      const index = requests.push(received) - 1;
      const reply = await current(received, index);
      if (reply.hang) return;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      if (reply.streamBytes) {
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let left = reply.streamBytes;
        const write = () => {
          while (left > 0) {
            const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= part.length;
            state.bytesStreamed += part.length;
            if (!res.write(part)) return void res.once('drain', write);
          }
          res.end();
        };
        res.on('error', () => {});
        write();
        return;
      }
      res.end(reply.body ?? '');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    setHandler(next) {
      current = next;
    },
    get bytesStreamed() {
      return state.bytesStreamed;
    },
    async waitFor(predicate, timeoutMs = 15_000, what = 'the expected webhooks') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(requests)) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${requests.length} requests`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return requests;
    },
    waitForCount(count, timeoutMs) {
      return receiver.waitFor((r) => r.length >= count, timeoutMs, `${count} webhooks`);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Lower-cased single-value headers, as `standardwebhooks` verify() wants them. */
export function webhookHeaders(request: ReceivedRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) if (typeof v === 'string') out[k] = v;
  return out;
}
