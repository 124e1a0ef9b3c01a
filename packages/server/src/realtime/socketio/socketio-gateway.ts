import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { RealtimeConfig } from '../../config.js';
import type { Logger } from '../../logging.js';
import type { Metrics } from '../../metrics.js';
import type { AuthService } from '../../services/auth-service.js';
import type { CredentialWatcher } from '../../services/credential-watcher.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import type { OrderService } from '../../services/order-service.js';
import type { ChannelHub } from '../channel-hub.js';
import type { HandshakeLimiter } from '../handshake-limiter.js';
import { asConnectError, authenticateHandshake, connectError, type SocketPrincipal } from './socketio-auth.js';
import { SocketIoSession } from './socketio-session.js';

export const SOCKETIO_NAMESPACE = '/ws';

export interface SocketIoGatewayDeps {
  auth: AuthService;
  orders: OrderService;
  reader: EventLogReader;
  hub: ChannelHub;
  metrics: Metrics;
  logger: Logger;
  limiter: HandshakeLimiter;
  config: RealtimeConfig;
  credentials: CredentialWatcher;
}

/**
 * The Socket.IO endpoint of reference 000: `io('<base>/ws', { auth: { apiKey } })`
 * on the default path /socket.io. The protocol is socket.io's own; this file only
 * authenticates connections and hands each to a SocketIoSession.
 */
export class SocketIoGateway {
  private readonly io: Server;
  private readonly sessions = new Set<SocketIoSession>();

  constructor(httpServer: HttpServer, deps: SocketIoGatewayDeps) {
    const { config } = deps;
    this.io = new Server(httpServer, {
      serveClient: false,
      maxHttpBufferSize: config.maxFrameBytes,
      pingInterval: config.pingIntervalSeconds * 1000,
      pingTimeout: config.pongTimeoutSeconds * 1000,
      connectTimeout: config.connectTimeoutSeconds * 1000,
      // Keys travel in `auth`, never in cookies, so any origin may connect.
      cors: { origin: true },
      // The Centrifuge gateway shares the HTTP server's upgrade event: do not cut its sockets.
      destroyUpgrade: false,
    });
    this.io.of('/').use((_socket, next) =>
      next(connectError('route_not_found', `Connect to the ${SOCKETIO_NAMESPACE} namespace: io("<base>${SOCKETIO_NAMESPACE}", { auth: { apiKey } })`)),
    );
    const nsp = this.io.of(SOCKETIO_NAMESPACE);
    nsp.use((socket, next) => {
      authenticateHandshake(deps.auth, deps.limiter, socket.handshake.address, socket.handshake.auth).then(
        (principal) => {
          socket.data.principal = principal;
          next();
        },
        (error) => next(asConnectError(error)),
      );
    });
    nsp.on('connection', (socket) => {
      const principal = socket.data.principal as SocketPrincipal;
      const session = new SocketIoSession(socket, principal, {
        orders: deps.orders,
        reader: deps.reader,
        hub: deps.hub,
        metrics: deps.metrics,
        logger: deps.logger,
        maxSubscriptions: config.maxSubscriptionsPerConnection,
        messagesPerSecond: config.messagesPerSecond,
        maxBufferedBytes: config.maxBufferedBytes,
      });
      this.sessions.add(session);
      deps.metrics.realtimeConnections.inc({ gateway: 'socketio' });
      // The connection keeps access only as long as its credential does.
      const watch = deps.credentials.watch(principal.credential, (reason) => session.endForCredential(reason));
      socket.on('disconnect', () => {
        watch.stop();
        this.sessions.delete(session);
        deps.metrics.realtimeConnections.dec({ gateway: 'socketio' });
      });
    });
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /**
   * Closes every client's transport and stops the engine, leaving the HTTP server
   * to Fastify. Clients see "transport close" and reconnect by themselves (to
   * another node, or this one after a restart); a server-side disconnect would
   * tell socket.io-client not to.
   */
  async close(): Promise<void> {
    this.io.engine.close();
    for (const session of this.sessions) session.close();
  }
}
