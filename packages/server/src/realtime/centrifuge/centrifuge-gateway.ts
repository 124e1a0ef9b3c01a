import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RealtimeConfig } from '../../config.js';
import type { Logger } from '../../lib/logging.js';
import type { Metrics } from '../../metrics.js';
import type { HandshakeLimiter } from '../handshake-limiter.js';
import type { ConnectionQuota } from '../connection-quota.js';
import { CentrifugeSession, type CentrifugeSessionOptions, type SessionTransport } from './centrifuge-session.js';
import { DisconnectCodes } from './codes.js';
import { Keepalives } from './keepalive.js';
import type { OrderChannels } from './order-channels.js';
import type { UserChannels } from './user-channels.js';

export const CENTRIFUGE_PATH = '/connection/websocket';
const SOCKETIO_PATH = '/socket.io/';

export interface CentrifugeGatewayDeps {
  channels: UserChannels;
  orders: OrderChannels;
  metrics: Metrics;
  logger: Logger;
  limiter: HandshakeLimiter;
  config: RealtimeConfig;
  version: string;
  /** Each project's open_connections quota (shared with Socket.IO and SSE); none: no quota. */
  connectionQuota?: ConnectionQuota;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/**
 * The Centrifuge-protocol endpoint (JSON over WebSocket, as centrifuge-js 5.x
 * speaks it) at /connection/websocket. This file only upgrades sockets and
 * enforces transport limits; the protocol lives in CentrifugeSession.
 */
export class CentrifugeGateway {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Map<WebSocket, CentrifugeSession>();
  /** Sessions over HTTP streaming and SSE (http-transports.ts), counted and shut down with the sockets. */
  private readonly streams = new Set<CentrifugeSession>();
  private readonly onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

  constructor(
    private readonly httpServer: HttpServer,
    private readonly deps: CentrifugeGatewayDeps,
  ) {
    // ws closes with 1009 (final for centrifuge-js) on a larger frame, like the Go server's 64 KiB default.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.config.maxFrameBytes, perMessageDeflate: false });
    this.onUpgrade = (request, socket, head) => this.upgrade(request, socket, head);
    httpServer.on('upgrade', this.onUpgrade);
  }

  private shuttingDown = false;
  private sharedOptions: CentrifugeSessionOptions | undefined;

  get connectionCount(): number {
    return this.sockets.size + this.streams.size;
  }

  /** False once close() has begun: new HTTP streams are refused (503) so they cannot hold the server open. */
  get accepting(): boolean {
    return !this.shuttingDown;
  }

  trackStream(session: CentrifugeSession): void {
    this.streams.add(session);
    this.deps.metrics.realtimeConnections.inc({ gateway: 'centrifuge' });
  }

  untrackStream(session: CentrifugeSession): void {
    if (this.streams.delete(session)) this.deps.metrics.realtimeConnections.dec({ gateway: 'centrifuge' });
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith(SOCKETIO_PATH)) return; // socket.io's engine handles its own upgrades
    socket.on('error', () => {});
    if (url.pathname !== CENTRIFUGE_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (url.searchParams.get('cf_protocol') === 'protobuf' || /centrifuge-protobuf/.test(String(request.headers['sec-websocket-protocol'] ?? ''))) {
      return refuseUpgrade(socket, 400, 'Bad Request: only the JSON protocol is served');
    }
    const address = this.deps.limiter.clientAddress(request.socket.remoteAddress, request.headers);
    if (!this.deps.limiter.allowIp(address)) {
      this.deps.logger.debug({ ip: address }, 'centrifuge connection refused: too many from this address');
      return refuseUpgrade(socket, 429, 'Too Many Requests');
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
  }

  /** What every session is given: one object for all, not a copy (and closures) kept by each connection. */
  private get sessionOptions(): CentrifugeSessionOptions {
    if (this.sharedOptions) return this.sharedOptions;
    const { config, metrics, limiter } = this.deps;
    this.sharedOptions = {
      channels: this.deps.channels,
      orders: this.deps.orders,
      maxSubscriptions: config.maxSubscriptionsPerConnection,
      logger: this.deps.logger,
      version: this.deps.version,
      pingIntervalMs: config.pingIntervalSeconds * 1000,
      keepalives: new Keepalives(config.pingIntervalSeconds * 1000, config.pongTimeoutSeconds * 1000),
      connectTimeoutMs: config.connectTimeoutSeconds * 1000,
      historyLimit: config.historyLimit,
      messagesPerSecond: config.messagesPerSecond,
      allowConnect: (rateKey) => limiter.allowCredential(rateKey),
      onPublication: (committedAt) => metrics.messageSent('centrifuge', committedAt),
      onSubscribed: () => metrics.realtimeSubscriptions.inc({ gateway: 'centrifuge' }),
      onUnsubscribed: () => metrics.realtimeSubscriptions.dec({ gateway: 'centrifuge' }),
      maxBufferedBytes: config.maxBufferedBytes,
      connectionQuota: this.deps.connectionQuota,
    };
    return this.sharedOptions;
  }

  /** A protocol session over any transport: a WebSocket here, an HTTP stream or SSE in http-transports.ts. */
  createSession(transport: SessionTransport, emulation?: { session: string; node: string }): CentrifugeSession {
    return new CentrifugeSession(transport, this.sessionOptions, emulation);
  }

  private accept(ws: WebSocket): void {
    const { metrics } = this.deps;
    const session = this.createSession(new WebSocketTransport(ws));
    this.sockets.set(ws, session);
    metrics.realtimeConnections.inc({ gateway: 'centrifuge' });
    ws.on('message', (data, isBinary) => {
      session.receive(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
    });
    ws.on('error', () => {});
    ws.once('close', () => {
      session.dispose();
      this.sockets.delete(ws);
      metrics.realtimeConnections.dec({ gateway: 'centrifuge' });
    });
  }

  /** Closes every connection with 3001 (clients reconnect, to another node if there is one). */
  async close(): Promise<void> {
    this.shuttingDown = true;
    this.httpServer.off('upgrade', this.onUpgrade);
    await this.disconnectAll(DisconnectCodes.shutdown, 'shutdown');
    this.wss.close();
  }

  /** Closes every connection with `code`; resolves when all are closed (forcibly after 1 s). */
  async disconnectAll(code: number, reason: string): Promise<void> {
    // A stream's disconnect push is written and the response ended at once.
    for (const session of [...this.streams]) session.disconnect(code, reason);
    const closing = [...this.sockets.keys()].map(
      (ws) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 1000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          this.sockets.get(ws)?.disconnect(code, reason);
        }),
    );
    await Promise.all(closing);
  }
}

/** A session's transport over a `ws` WebSocket: methods on a prototype, not three closures per connection. */
class WebSocketTransport implements SessionTransport {
  constructor(private readonly ws: WebSocket) {}

  send(frame: string): void {
    this.ws.send(frame);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
}
