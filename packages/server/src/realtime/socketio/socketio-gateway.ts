import { randomBytes } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { RealtimeConfig } from '../../config.js';
import type { Logger } from '../../lib/logging.js';
import type { Metrics } from '../../metrics.js';
import type { AuthService } from '../../services/auth-service.js';
import type { CredentialWatcher } from '../../services/credential-watcher.js';
import type { EventFeedService } from '../../services/event-feed-service.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import type { OrderService } from '../../services/order-service.js';
import type { SocketIoSessionRows } from '../../services/socketio-session-rows.js';
import type { TenantPositions } from '../../services/tenant-position.js';
import type { LogPosition } from '../../domain/order.js';
import type { ChannelHub } from '../../events/channel-hub.js';
import type { HandshakeLimiter } from '../handshake-limiter.js';
import { LiveRooms } from './live-rooms.js';
import { RECOVERED_KEY, recoveryAdapter, type RecoveredState } from './recovery-adapter.js';
import { asConnectError, authenticateHandshake, connectError, type SocketPrincipal } from './socketio-auth.js';
import type { ConnectionQuota } from '../connection-quota.js';
import { SocketIoSession, type SocketIoSessionDeps } from './socketio-session.js';

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
  /** Where recoverable sessions are kept; without it (or with a recovery window of 0), connection state recovery is off. */
  sessionRows?: SocketIoSessionRows;
  /** Seals the log positions that end most events (the offsets shared by every socket of a project). */
  positions: TenantPositions;
  /** The project feed, for a recovered `subscribe:project` while it catches up from the log. */
  feed: EventFeedService;
  /** Each project's open_connections quota (shared with Centrifuge and SSE); none: no quota. */
  connectionQuota?: ConnectionQuota;
  /** The log follower's position (where a project feed joined now starts). */
  followerPosition(): LogPosition;
}

/**
 * The Socket.IO endpoint of reference 000: `io('<base>/ws', { auth: { apiKey } })`
 * on the default path /socket.io. The protocol is socket.io's own; this file only
 * authenticates connections and hands each to a SocketIoSession.
 */
export class SocketIoGateway {
  private readonly io: Server;
  /** The session of each connected socket (the adapter's buffer check finds it here). */
  private readonly sessions = new Map<object, SocketIoSession>();
  readonly rooms: LiveRooms;
  private readonly renewTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;

  constructor(httpServer: HttpServer, deps: SocketIoGatewayDeps) {
    const { config } = deps;
    const windowMs = config.recoveryWindowMs;
    const rows = windowMs > 0 ? deps.sessionRows : undefined;
    // Connected sessions' rows have their expiry pushed back this often.
    const renewEveryMs = Math.max(500, Math.floor(windowMs / 4));
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
      // Socket.IO's own recovery protocol (pid and offset in the handshake), served from session rows and the log.
      ...(rows ? { connectionStateRecovery: { maxDisconnectionDuration: windowMs, skipMiddlewares: false } } : {}),
      adapter: recoveryAdapter(
        (socket) => this.sessions.get(socket)?.admits(this.rooms.orderBroadcast) ?? true,
        rows ? { positions: deps.positions, rows } : undefined,
      ),
    });
    this.io
      .of('/')
      .use((_socket, next) =>
        next(connectError('route_not_found', `Connect to the ${SOCKETIO_NAMESPACE} namespace: io("<base>${SOCKETIO_NAMESPACE}", { auth: { apiKey } })`)),
      );
    const nsp = this.io.of(SOCKETIO_NAMESPACE);
    this.rooms = new LiveRooms(nsp, deps.hub, deps.metrics, rows ? deps.positions : undefined);
    nsp.use((socket, next) => {
      const address = deps.limiter.clientAddress(socket.handshake.address, socket.handshake.headers);
      authenticateHandshake(deps.auth, deps.limiter, address, socket.handshake.auth)
        .then((principal) => {
          if (rows) adoptOrRenewSession(socket, principal);
          socket.data.principal = principal;
          // The project's connection slot, once the credential says which project (its open_connections quota).
          if (deps.connectionQuota) return holdConnectionSlot(socket, deps.connectionQuota.openConnection(principal.projectId));
        })
        .then(
          () => next(),
          (error) => next(asConnectError(error)),
        );
    });
    // One object for every session: a copy per connection would be kept by each idle socket.
    const sessionDeps: SocketIoSessionDeps = {
      orders: deps.orders,
      reader: deps.reader,
      rooms: this.rooms,
      metrics: deps.metrics,
      logger: deps.logger,
      maxSubscriptions: config.maxSubscriptionsPerConnection,
      messagesPerSecond: config.messagesPerSecond,
      maxBufferedBytes: config.maxBufferedBytes,
      positions: deps.positions,
      rows,
      // Renewed every `renewEveryMs` while connected: a session stays recoverable at least the window after a drop.
      rowLifetimeMs: windowMs + renewEveryMs,
      feed: deps.feed,
      followerPosition: deps.followerPosition,
    };
    nsp.on('connection', (socket) => {
      const principal = socket.data.principal as SocketPrincipal;
      const restored = rows ? (socket.data[RECOVERED_KEY] as RecoveredState | undefined) : undefined;
      const releaseSlot = takeConnectionSlot(socket);
      // The session holds what it needs; socket.data would keep the handshake's copies alive.
      socket.data = {};
      const session = new SocketIoSession(socket, principal, sessionDeps, restored);
      this.sessions.set(socket, session);
      deps.metrics.realtimeConnections.inc({ gateway: 'socketio' });
      // The connection keeps access only as long as its credential does.
      const watch = deps.credentials.watch(principal.credential, (reason) => session.endForCredential(reason));
      socket.on('disconnect', () => {
        session.close();
        watch.stop();
        releaseSlot?.();
        this.sessions.delete(socket);
        deps.metrics.realtimeConnections.dec({ gateway: 'socketio' });
      });
      releaseOpeningRequest(socket);
    });
    if (rows) {
      this.renewTimer = setInterval(() => {
        const renew: string[] = [];
        for (const session of this.sessions.values()) {
          const id = session.rowToRenew();
          if (id !== undefined) renew.push(id);
        }
        this.renewRows(rows, renew, windowMs + renewEveryMs, deps.logger);
      }, renewEveryMs);
      this.renewTimer.unref();
    }
  }

  /** Pushes back the expiry of connected sessions' rows and deletes expired ones; one pass at a time. */
  private renewRows(rows: SocketIoSessionRows, ids: string[], lifetimeMs: number, logger: Logger): void {
    if (this.renewing) return;
    const now = Date.now();
    this.renewing = rows
      .renew(ids, now + lifetimeMs)
      .then(() => rows.deleteExpired(now))
      .then(
        () => undefined,
        (error) => logger.warn({ err: error }, 'socket.io: renewing recoverable sessions failed'),
      )
      .finally(() => (this.renewing = undefined));
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
    clearInterval(this.renewTimer);
    await this.renewing;
    this.io.engine.close();
    for (const session of this.sessions.values()) session.close();
  }
}

function sameActor(actor: RecoveredState['actor'], principal: SocketPrincipal): boolean {
  return (
    actor.projectId === principal.projectId &&
    actor.kind === principal.kind &&
    (principal.kind === 'secret' || actor.userExternalId === principal.userExternalId)
  );
}

/**
 * Runs once the handshake's credential is checked. A restored session is kept only
 * when that credential acts for the same project and user as the session's row;
 * otherwise the socket gets a new session under a new random pid, so socket.io-client
 * reports `recovered === false` and nothing of the old one is sent. (A new connection
 * already has a random pid of socket.io's.)
 */
function adoptOrRenewSession(socket: import('socket.io').Socket, principal: SocketPrincipal): void {
  const restored = socket.data[RECOVERED_KEY] as RecoveredState | undefined;
  if (!restored) return;
  if (socket.recovered && sameActor(restored.actor, principal)) return;
  (socket as unknown as { recovered: boolean }).recovered = false;
  socket.data = {};
  // socket.io sends this pid in its CONNECT packet; the client hands it back on reconnect.
  (socket as unknown as { pid: string }).pid = randomBytes(15).toString('base64url');
}

/** Where a socket still in its handshake keeps its connection slot's release, until it connects. */
const SLOT_KEY = 'releaseSlot';

/**
 * Holds a connection slot for a socket still in its handshake. If the transport closes
 * before the socket ever connects (a client that left during the handshake), the slot is
 * given back then; once it connects, the `disconnect` handler gives it back
 * (`takeConnectionSlot`), and the socket keeps no listener for it.
 */
async function holdConnectionSlot(socket: import('socket.io').Socket, slot: (() => void) | Promise<() => void>): Promise<void> {
  const release = await slot;
  if (socket.conn.readyState === 'closed') return release();
  socket.data[SLOT_KEY] = release;
  socket.conn.once('close', release);
}

/** The connection slot of a socket that just connected, its handshake's listener removed. */
function takeConnectionSlot(socket: import('socket.io').Socket): (() => void) | undefined {
  const release = socket.data[SLOT_KEY] as (() => void) | undefined;
  if (release) socket.conn.removeListener('close', release);
  return release;
}

type Listener = (...args: unknown[]) => void;

/**
 * Lets go of the HTTP request that opened the connection (socket.io's own advice
 * for memory). engine.io reads it only while the session opens, and the handshake
 * (address, headers, auth) was already copied out of it. On a WebSocket, engine.io
 * also keeps it through the upgrade's stand-in response, whose only job is a "close"
 * event for engine middlewares (`io.engine.use`, none here): that listener on the
 * TCP socket goes too, so the IncomingMessage, its raw headers and stream state do
 * not live as long as the connection. Should engine.io change, nothing matches and
 * nothing is removed.
 */
function releaseOpeningRequest(socket: import('socket.io').Socket): void {
  const conn = socket.conn as unknown as { request: unknown; transport?: { socket?: { _socket?: import('node:events').EventEmitter } } };
  conn.request = null;
  const tcp = conn.transport?.socket?._socket;
  if (!tcp) return;
  for (const listener of tcp.rawListeners('close') as Array<Listener & { listener?: Listener }>) {
    if (listener.listener?.toString() === UPGRADE_RESPONSE_CLOSE) tcp.removeListener('close', listener);
  }
}

/** engine.io's WebSocketResponse forwards the TCP socket's "close" with this arrow function. */
const UPGRADE_RESPONSE_CLOSE = '() => this.emit("close")';
