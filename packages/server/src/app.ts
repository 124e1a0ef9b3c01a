import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Broker } from './events/broker.js';
import { LogFollower } from './events/log-follower.js';
import { SocketIoSessionRows } from './services/socketio-session-rows.js';
import { HealthService } from './services/health-service.js';
import { OrderReadCache } from './services/order-read-cache.js';
import { MemoryBroker } from './events/memory-broker.js';
import { Waiters } from './events/waiters.js';
import { RedisBroker } from './events/redis-broker.js';
import { PostgresBroker } from './events/postgres-broker.js';
import { isConnectedBroker } from './events/broker.js';
import { interestOfTopic } from './realtime/channel-hub.js';
import { postgresNotifier } from './store/pg-notify.js';
import { startMetricsServer, type MetricsServer } from './http/metrics-server.js';
import { buildHttpServer } from './http/server.js';
import { LogThrottle } from './lib/log-throttle.js';
import { createLogger, type Logger } from './lib/logging.js';
import { Metrics } from './metrics.js';
import { CentrifugeGateway } from './realtime/centrifuge/centrifuge-gateway.js';
import { CentrifugeHttpTransports } from './realtime/centrifuge/http-transports.js';
import { LogBackedOrderChannels } from './realtime/centrifuge/order-channels.js';
import { LogBackedUserChannels } from './realtime/centrifuge/user-channels.js';
import { ChannelHub } from './realtime/channel-hub.js';
import { HandshakeLimiter } from './realtime/handshake-limiter.js';
import { SocketIoGateway } from './realtime/socketio/socketio-gateway.js';
import { SseStreams } from './realtime/sse/sse-streams.js';
import { loadRealtimeSessionKey } from './services/realtime-session-key.js';
import { AuthService } from './services/auth-service.js';
import { CredentialWatcher } from './services/credential-watcher.js';
import { EventLogReader } from './services/event-log-reader.js';
import { startIdempotencyRetention } from './services/idempotency-retention.js';
import { OrderService } from './services/order-service.js';
import { EventFeedService } from './services/event-feed-service.js';
import { ProjectService } from './services/project-service.js';
import { sha256Hex } from './lib/hashing.js';
import { WebhookDeliveryService } from './services/webhook-delivery-service.js';
import { WebhookEndpointService } from './services/webhook-endpoint-service.js';
import { WebhookStatsService } from './services/webhook-stats-service.js';
import { OrderExpungeService } from './services/order-expunge-service.js';
import { RetentionService } from './services/retention.js';
import { openStore, type Store } from './store/database.js';
import { loadSecretBox } from './store/encryption-key.js';
import { migrateToLatest } from './store/migrations.js';
import type { SecretBox } from './store/secret-box.js';
import { resealStoredSecrets } from './store/secret-reseal.js';
import { VERSION } from './version.js';
import { DeliveryQueue } from './webhooks/delivery-queue.js';
import { DeliveryDispatcher } from './webhooks/dispatcher.js';
import { ThreadedDeliveryQueue } from './webhooks/queue-thread.js';
import { HttpSender } from './webhooks/http-sender.js';
import { RetrySchedule } from './webhooks/retry-schedule.js';

/** The composition root: the only place that knows every part. The core services, plus the servers. */
export interface App extends Omit<Core, 'close'> {
  /** Undefined when ORDERCAST_WEBHOOK_DISPATCH=false (another process sends). */
  dispatcher: DeliveryDispatcher | undefined;
  /** Prunes old attempt bodies, deliveries and events in the background (ORDERCAST_RETENTION_*). */
  retention: RetentionService;
  http: FastifyInstance;
  /** The one follower of the log: every committed event, once, in commit order, to the gateways, long-polls, the feed and the dispatcher. */
  follower: LogFollower;
  socketio: SocketIoGateway;
  centrifuge: CentrifugeGateway;
  /** Server-Sent Events streams (`/api/v2/orders/{id}/stream`, `/api/v2/stream`). */
  sse: SseStreams;
  /** Where Prometheus scrapes, once listening (undefined when the metrics port is off). */
  metricsUrl: string | undefined;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** A long-running server (not a one-off CLI command): checkpoint SQLite in the background. */
  serving?: boolean;
}

/** The services without any server: what CLI commands that touch the database need. */
export interface Core {
  config: Config;
  logger: Logger;
  store: Store;
  /** Seals and opens the secrets stored in the database. */
  secrets: SecretBox;
  broker: Broker;
  /** Long-polls waiting on an order, and feeds waiting on a project: woken by the log follower. */
  orderWaiters: Waiters;
  projectWaiters: Waiters;
  metrics: Metrics;
  projects: ProjectService;
  auth: AuthService;
  orders: OrderService;
  webhookEndpoints: WebhookEndpointService;
  webhookDeliveries: WebhookDeliveryService;
  /** The dispatcher's claims and outcomes. */
  deliveryQueue: DeliveryQueue;
  webhookStats: WebhookStatsService;
  orderExpunge: OrderExpungeService;
  close(): Promise<void>;
}

/** Opens the database and brings its schema up to date. */
export async function openMigratedStore(config: Config, logger?: Logger, serving = false): Promise<Store> {
  const store = openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
    checkpointInBackground: serving,
    onBackgroundError: (message) => logger?.warn({ error: message }, 'SQLite background checkpoint failed; it will be tried again'),
    connectTimeoutMs: config.databaseConnectTimeout,
    statementTimeoutMs: config.databaseStatementTimeout,
    preparedStatements: config.databasePreparedStatements,
    onConnectionError: (error) => {
      const notLogged = connectionLossLog.take('lost');
      if (notLogged !== undefined) logger?.warn({ err: error, failuresNotLogged: notLogged }, 'database connection lost; it is replaced on next use');
    },
  });
  try {
    const applied = await migrateToLatest(store.db, store.dialect);
    if (applied.length > 0) logger?.info({ migrations: applied }, 'database schema migrated');
  } catch (error) {
    await store.close().catch(() => {});
    // "connect ECONNREFUSED" alone does not say which database an operator got wrong.
    throw new Error(`Cannot open the ${store.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'} database at ${store.location}: ${describeCause(error)}`, {
      cause: error,
    });
  }
  return store;
}

/**
 * Opens and migrates the database, loads the encryption key and re-seals every
 * stored secret that is not sealed with it (see store/secret-reseal.ts).
 */
export async function openStoreWithSecrets(config: Config, logger?: Logger, serving = false): Promise<{ store: Store; secrets: SecretBox }> {
  const store = await openMigratedStore(config, logger, serving);
  try {
    const loaded = loadSecretBox({
      key: config.encryptionKey,
      previous: config.encryptionKeyPrevious,
      dialect: store.dialect,
      // Beside the SQLite file it unlocks, so the CLI and the server find the same key whatever their --data-dir.
      keyFileDir: store.dialect === 'sqlite' && !store.location.endsWith(':memory:') ? path.dirname(store.location) : config.dataDir,
    });
    if (loaded.source === 'none') {
      logger?.warn(
        'SECURITY WARNING: ORDERCAST_ENCRYPTION_KEY is not set, so token secrets and webhook signing secrets are stored in PLAIN TEXT in PostgreSQL. ' +
          'Set ORDERCAST_ENCRYPTION_KEY (32 bytes: `openssl rand -base64 32`) on every node and restart: existing secrets are encrypted at start. See docs/operations.md',
      );
    } else if (loaded.source === 'key file (created)') {
      logger?.info({ keyFile: loaded.keyFile }, 'created the encryption key file for stored secrets: back it up with the database, or secrets cannot be read');
    }
    if (loaded.keyFileTooOpen) logger?.warn({ keyFile: loaded.keyFile }, 'the encryption key file is readable by other users: chmod 600 it');
    const resealed = await resealStoredSecrets(store.db, loaded.box);
    if (resealed.tokenSecrets + resealed.webhookEndpoints > 0) {
      logger?.info({ ...resealed, keyId: loaded.box.currentKeyId }, 'stored secrets encrypted with the current key');
    }
    return { store, secrets: loaded.box };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

/** One warning per interval while connections keep dying (a restart or failover drops them all). */
const connectionLossLog = new LogThrottle(10_000);

function describeCause(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  // pg reports a refused connection to several addresses as an AggregateError with an empty message.
  const message = e?.message || e?.errors?.map((inner) => inner.message).join('; ') || String(error);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** Servers listen; one-off CLI commands only notify (their writes still wake the servers). */
async function startPostgresBroker(config: Config, store: Store, logger: Logger, listen: boolean): Promise<PostgresBroker> {
  const notifier = postgresNotifier(store.db);
  const broker = new PostgresBroker({
    listenUrl: config.databaseListenUrl ?? config.databaseUrl!,
    channel: await notifier.channel(),
    notify: notifier.notify,
    logger,
  });
  if (listen) await broker.start();
  return broker;
}

export async function createCore(config: Config, options: AppOptions = {}): Promise<Core> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, pretty: config.logPretty });
  const { store, secrets } = await openStoreWithSecrets(config, logger, options.serving);
  const metrics = new Metrics();
  // Redis carries hints between server processes; without it, PostgreSQL does (LISTEN/NOTIFY); on SQLite they stay in this one.
  // The channel defaults to one per database, so deployments sharing a Redis never see each other's events.
  const broker: Broker = config.redisUrl
    ? new RedisBroker(config.redisUrl, config.redisChannel ?? `ordercast:events:${sha256Hex(store.location).slice(0, 16)}`, logger)
    : store.dialect === 'postgres'
      ? await startPostgresBroker(config, store, logger, Boolean(options.serving))
      : new MemoryBroker();
  if (isConnectedBroker(broker)) metrics.setBrokerProbe(() => broker.isConnected, broker.transport);
  if (config.databaseListenUrl && !(broker instanceof PostgresBroker)) {
    logger.warn(
      config.redisUrl
        ? 'ORDERCAST_DATABASE_LISTEN_URL is not used: Redis carries hints between nodes'
        : 'ORDERCAST_DATABASE_LISTEN_URL is not used: it is for PostgreSQL',
    );
  }
  const orderWaiters = new Waiters((orderId) => broker.follow({ orderId }));
  const projectWaiters = new Waiters((projectId) => broker.follow({ projectId }));
  const projects = new ProjectService(store, secrets);
  const auth = new AuthService(store, projects);
  const orders = new OrderService(
    store,
    projects,
    broker,
    orderWaiters,
    {
      orderCreated: () => metrics.ordersCreated.inc(),
      orderTransitioned: (event) => metrics.transitions.inc({ status: event.toStatus }),
      deliveriesQueued: () => webhookDeliveries.notifyQueued(),
    },
    new OrderReadCache(config.orderCacheBytes),
  );
  metrics.setOrderCacheProbe(orders.readCache);
  const webhookEndpoints = new WebhookEndpointService(store, projects, {
    allowPrivate: config.webhooks.allowPrivate,
    rotationGraceMs: config.webhooks.rotationGrace,
    secrets,
  });
  const webhookDeliveries = new WebhookDeliveryService(store, webhookEndpoints);
  const deliveryQueue = new DeliveryQueue(store);
  metrics.setWebhookQueueProbe(() => deliveryQueue.queueStats());
  return {
    config,
    logger,
    store,
    secrets,
    broker,
    orderWaiters,
    projectWaiters,
    metrics,
    projects,
    auth,
    orders,
    webhookEndpoints,
    webhookDeliveries,
    deliveryQueue,
    webhookStats: new WebhookStatsService(store, webhookEndpoints),
    orderExpunge: new OrderExpungeService(store, orders.readCache),
    async close() {
      orderWaiters.close();
      projectWaiters.close();
      await broker.close();
      await store.close();
    },
  };
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const core = await createCore(config, { serving: true, ...options });
  const { logger, store, broker, metrics, projects, auth, orders, webhookEndpoints, webhookDeliveries, orderWaiters, projectWaiters } = core;
  const shutdown = new AbortController();
  const sender = new HttpSender({
    allowPrivate: config.webhooks.allowPrivate,
    timeout: config.webhooks.timeout,
    connectTimeout: config.webhooks.connectTimeout,
    userAgent: `Ordercast/${VERSION}`,
  });
  const dispatcher = config.webhooks.dispatch
    ? new DeliveryDispatcher(
        ThreadedDeliveryQueue.forStore(store, config.sqliteSynchronous) ?? core.deliveryQueue,
        sender,
        new RetrySchedule(config.webhooks.retrySchedule, config.webhooks.retryJitter, config.webhooks.maxRetryAfter),
        metrics,
        logger,
        {
          concurrency: config.webhooks.concurrency,
          pollInterval: config.webhooks.pollInterval,
          timeout: config.webhooks.timeout,
          disableAfter: config.webhooks.disableAfter,
          signingSecrets: (endpoint, nowIso) => webhookEndpoints.signingSecrets(endpoint, nowIso),
          customHeaders: (endpoint) => webhookEndpoints.customHeaders(endpoint),
          failingAfter: config.webhooks.failingAfter,
        },
      )
    : undefined;
  const follower = new LogFollower(store.log, broker, { pollMs: config.realtime.eventPollMs, settleMs: store.dialect === 'postgres' ? 50 : 0 }, logger);
  // A node asks for other nodes' hints only about what its clients follow (see docs/realtime.md, "Running several nodes").
  const hub = new ChannelHub((topic) => {
    const interest = interestOfTopic(topic);
    return interest ? broker.follow(interest) : () => {};
  });
  follower.subscribe((event) => {
    // The cache first: a long-poll woken below must read the new state.
    orders.followed(event);
    hub.dispatch(event);
    orderWaiters.notify(event.orderId);
    projectWaiters.notify(event.projectId);
  });
  const stopWaking: Array<() => void> = [];
  if (dispatcher) {
    // Woken when a write of this process queued deliveries; it also polls, so deliveries queued by other processes are sent too.
    stopWaking.push(webhookDeliveries.onQueued(() => dispatcher.wake()));
  }
  const eventFeed = new EventFeedService(store, projectWaiters);
  // Server-Sent Events: fed by the hub like the socket gateways; a watcher of their own closes streams whose credential lapsed.
  // Open connections (SSE streams, Socket.IO, Centrifuge) lose access when their key or
  // token does (expiry, rotation, revocation, in any process): one watcher for all of them.
  const credentials = new CredentialWatcher(store, projects, logger);
  const streams = new SseStreams({
    orders,
    reader: new EventLogReader(store),
    feed: eventFeed,
    hub,
    credentials,
    metrics,
    logger,
    heartbeatMs: config.sse.heartbeatMs,
    maxStreamsPerCredential: config.sse.maxStreamsPerCredential,
    maxBufferedBytes: config.realtime.maxBufferedBytes,
    shutdownSignal: shutdown.signal,
  });
  const http = await buildHttpServer({
    logger,
    metrics,
    health: new HealthService(store),
    auth,
    orders,
    projects,
    webhookEndpoints,
    webhookDeliveries,
    eventFeed,
    streams,
    webhookStats: core.webhookStats,
    orderExpunge: core.orderExpunge,
    bodyLimitBytes: config.bodyLimitBytes,
    rateLimitPerSecond: config.rateLimitPerSecond,
    rateLimitBurst: config.rateLimitBurst,
    version: VERSION,
    shutdownSignal: shutdown.signal,
    corsOrigins: config.corsOrigins,
    brokerConnected: isConnectedBroker(broker) ? () => broker.isConnected : undefined,
    brokerTransport: isConnectedBroker(broker) ? broker.transport : undefined,
  });
  let metricsServer: MetricsServer | undefined;

  let retention: { stop(): void } | undefined;
  const pruning = new RetentionService(store, { ...config.retention, pauseMs: 5 }, logger);
  const reader = new EventLogReader(store);
  const limiter = new HandshakeLimiter(config.realtime.handshakesPerSecond);
  const recoveryKey = await loadRealtimeSessionKey(store);
  const socketio = new SocketIoGateway(http.server, {
    auth,
    orders,
    reader,
    hub,
    metrics,
    logger,
    limiter,
    config: config.realtime,
    credentials,
    recoveryKey,
    sessionRows: new SocketIoSessionRows(store),
    logPosition: () => follower.current,
  });
  const centrifuge = new CentrifugeGateway(http.server, {
    channels: new LogBackedUserChannels(auth, reader, hub, credentials),
    orders: new LogBackedOrderChannels(orders, reader, hub),
    metrics,
    logger,
    limiter,
    config: config.realtime,
    version: VERSION,
  });
  // centrifuge-js's HTTP-streaming and SSE fallbacks, with their /emulation endpoint.
  await new CentrifugeHttpTransports({ gateway: centrifuge, limiter, maxFrameBytes: config.realtime.maxFrameBytes }).register(http);

  let closing: Promise<void> | undefined;
  return {
    ...core,
    dispatcher,
    retention: pruning,
    http,
    follower,
    socketio,
    centrifuge,
    sse: streams,
    get metricsUrl() {
      return metricsServer?.url;
    },
    async listen() {
      if (config.metricsPort !== undefined) metricsServer = await startMetricsServer(metrics, config.metricsHost, config.metricsPort);
      await follower.start();
      await http.listen({ host: config.host, port: config.port });
      retention = startIdempotencyRetention(store, logger);
      pruning.start();
      dispatcher?.start();
      const address = http.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
      return `http://${host}:${port}`;
    },
    close() {
      closing ??= (async () => {
        shutdown.abort();
        retention?.stop();
        await pruning.stop();
        orderWaiters.close();
        projectWaiters.close();
        for (const stop of stopWaking) stop();
        // Sockets first: open WebSockets would otherwise hold the HTTP server open.
        await centrifuge.close();
        await socketio.close();
        credentials.close();
        await follower.stop();
        // Answers sent from now on say `Connection: close` (see http/server.ts); this also
        // closes connections left idle by answers that bypass the hooks (503 while closing).
        const closeIdle = setInterval(() => http.server.closeIdleConnections?.(), 200);
        try {
          // Attempts still running after the grace keep their lease and are retried by the next process.
          await Promise.all([http.close(), dispatcher?.stop()]);
        } finally {
          clearInterval(closeIdle);
        }
        await sender.close();
        await metricsServer?.close();
        await core.close();
      })();
      return closing;
    },
  };
}
