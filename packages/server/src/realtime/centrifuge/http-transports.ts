import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HandshakeLimiter } from '../handshake-limiter.js';
import { jsonLines } from './codec.js';
import type { CentrifugeGateway } from './centrifuge-gateway.js';
import type { CentrifugeSession, SessionTransport } from './centrifuge-session.js';

export const HTTP_STREAM_PATH = '/connection/http_stream';
export const SSE_PATH = '/connection/sse';
export const EMULATION_PATH = '/emulation';

export interface HttpTransportsOptions {
  gateway: CentrifugeGateway;
  limiter: HandshakeLimiter;
  /** The largest command body accepted (the WebSocket frame limit). */
  maxFrameBytes: number;
}

/** A 4xx answer of these routes: plain JSON, like the API's errors. */
function refuse(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).header('access-control-allow-origin', '*').send({ error: { code, message } });
}

/**
 * The HTTP-streaming and SSE transports of centrifuge-js, for networks where
 * WebSockets do not get through. The client opens one long response that carries
 * every reply and push of the connection:
 * - http_stream: `POST /connection/http_stream` with the connect command as the body;
 *   the response is newline-delimited JSON, one reply or push per line;
 * - sse: `GET /connection/sse?cf_connect=<connect command>`; the response is
 *   `text/event-stream`, one reply or push per `data:` event.
 * Its later commands (subscribe, history, rpc, pongs…) come as separate
 * `POST /emulation` requests, `{session, node, data}`, where `session` and `node`
 * are what the connect reply announced, and `data` the encoded commands. The node
 * is this process: an emulation request that reaches another node gets 404 and the
 * client reconnects, so behind a load balancer route /emulation by `node` (or use
 * sticky sessions).
 */
export class CentrifugeHttpTransports {
  readonly node = randomBytes(8).toString('hex');
  /** The open HTTP-streaming and SSE sessions, by the session id their clients send to /emulation (the gateway counts and closes them). */
  private readonly sessions = new Map<string, CentrifugeSession>();

  constructor(private readonly options: HttpTransportsOptions) {}

  /** Registers the three routes in their own scope: they read their bodies as text, whatever the content type. */
  async register(app: FastifyInstance): Promise<void> {
    const { maxFrameBytes } = this.options;
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxFrameBytes }, (_request, body, done) => done(null, body));
      scope.options(HTTP_STREAM_PATH, { schema: { hide: true } }, (request, reply) => this.preflight(request, reply));
      scope.options(EMULATION_PATH, { schema: { hide: true } }, (request, reply) => this.preflight(request, reply));
      scope.post(HTTP_STREAM_PATH, { schema: { hide: true } }, (request, reply) => this.openStream(request, reply, 'http_stream'));
      scope.get(SSE_PATH, { schema: { hide: true } }, (request, reply) => this.openStream(request, reply, 'sse'));
      scope.post(EMULATION_PATH, { schema: { hide: true } }, (request, reply) => this.emulate(request, reply));
    });
  }

  private preflight(_request: FastifyRequest, reply: FastifyReply) {
    // Credentials travel in the commands, never in cookies: any page may connect, as with the WebSocket endpoint.
    return reply
      .code(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '600')
      .send();
  }

  private openStream(request: FastifyRequest, reply: FastifyReply, kind: 'http_stream' | 'sse') {
    const connect = kind === 'sse' ? (request.query as Record<string, unknown>).cf_connect : request.body;
    // cf_connect holds the credential: keep it out of request logs from here on.
    if (kind === 'sse') request.raw.url = SSE_PATH;
    if (!this.options.gateway.accepting) return refuse(reply, 503, 'service_unavailable', 'the server is shutting down: reconnect');
    if (typeof connect !== 'string' || connect.trim() === '') {
      const where = kind === 'sse' ? 'the cf_connect query parameter' : 'the request body';
      return refuse(reply, 400, 'bad_request', `${where} must hold the connect command (JSON)`);
    }
    if (Buffer.byteLength(connect) > this.options.maxFrameBytes) return refuse(reply, 413, 'payload_too_large', 'the connect command is too large');
    if (!looksLikeCommands(connect)) return refuse(reply, 400, 'bad_request', 'the connect command must be JSON objects, one per line');
    if (!this.options.limiter.allowIp(request.ip)) return refuse(reply, 429, 'rate_limited', 'too many connections from this address: retry in a few seconds');

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': kind === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'access-control-allow-origin': '*',
    });
    res.flushHeaders();
    const id = randomBytes(16).toString('base64url');
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      res.end();
    };
    const write = kind === 'sse' ? (frame: string) => writeSse(res, frame) : (frame: string) => res.write(frame + '\n');
    const transport: SessionTransport = {
      send: (frame) => {
        if (!ended) write(frame);
      },
      // A streaming client learns why from a disconnect push, then sees its stream end.
      close: (code, reason) => {
        if (!ended) write(JSON.stringify({ push: { disconnect: { code, reason, reconnect: code < 3500 || (code >= 4000 && code < 4500) } } }));
        end();
      },
      bufferedAmount: () => res.writableLength,
    };
    const session = this.options.gateway.createSession(transport, { session: id, node: this.node });
    this.sessions.set(id, session);
    this.options.gateway.trackStream(session);
    res.on('close', () => {
      ended = true;
      this.sessions.delete(id);
      session.dispose();
      this.options.gateway.untrackStream(session);
    });
    res.on('error', () => {});
    session.receive(connect);
  }

  private emulate(request: FastifyRequest, reply: FastifyReply) {
    let body: unknown;
    try {
      body = typeof request.body === 'string' ? JSON.parse(request.body) : undefined;
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return refuse(reply, 400, 'bad_request', 'send {"session": "…", "node": "…", "data": "<commands>"} as JSON');
    }
    const { session, node, data } = body as { session?: unknown; node?: unknown; data?: unknown };
    if (typeof session !== 'string' || typeof node !== 'string' || session === '' || node === '') {
      return refuse(reply, 400, 'bad_request', 'session and node must be the strings of the connect reply');
    }
    // JSON clients send their commands as one string; protobuf is not served.
    if (typeof data !== 'string' || !looksLikeCommands(data)) return refuse(reply, 400, 'bad_request', 'data must be the commands, JSON objects one per line');
    // Not this node (another one, or this one before a restart): the client reconnects on 404.
    if (node !== this.node) return refuse(reply, 404, 'unknown_node', 'no such node: reconnect');
    // A session that ended on this node: 204 as Centrifugo answers, and its stream has ended already.
    this.sessions.get(session)?.receive(data);
    return reply.code(204).header('access-control-allow-origin', '*').send();
  }
}

/** Each reply or push as its own event: `data:` cannot hold a newline. */
function writeSse(res: ServerResponse, frame: string): void {
  let out = '';
  for (const line of frame.split('\n')) if (line !== '') out += `data: ${line}\n\n`;
  res.write(out);
}

/** A cheap check before a session sees the text: every non-empty line is a JSON object, and there is one. */
function looksLikeCommands(text: string): boolean {
  try {
    return jsonLines(text).length > 0;
  } catch {
    return false;
  }
}
