import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Broker } from './events/broker.js';
import { EventFeed } from './events/event-feed.js';
import { MemoryBroker } from './events/memory-broker.js';
import { OrderWatchers } from './events/order-watchers.js';
import { RedisBroker } from './events/redis-broker.js';
import { buildHttpServer } from './http/server.js';
import { createLogger, type Logger } from './logging.js';
import { Metrics } from './metrics.js';
import { CentrifugeGateway } from './realtime/centrifuge/centrifuge-gateway.js';
import { LogBackedUserChannels } from './realtime/centrifuge/user-channels.js';
import { ChannelHub } from './realtime/channel-hub.js';
import { HandshakeLimiter } from './realtime/handshake-limiter.js';
import { SocketIoGateway } from './realtime/socketio/socketio-gateway.js';
import { AuthService } from './services/auth-service.js';
import { CredentialWatcher } from './services/credential-watcher.js';
import { EventLogReader } from './services/event-log-reader.js';
import { startIdempotencyRetention } from './services/idempotency-retention.js';
import { OrderService } from './services/order-service.js';
import { EventFeedService } from './services/event-feed-service.js';
import { ProjectService } from './services/project-service.js';
import { sha256Hex } from './services/random.js';
import { WebhookDeliveryService } from './services/webhook-delivery-service.js';
import { WebhookEndpointService } from './services/webhook-endpoint-service.js';
import { openStore, type Store } from './store/database.js';
import { loadSecretBox } from './store/encryption-key.js';
import { migrateToLatest } from './store/migrations.js';
import type { SecretBox } from './store/secret-box.js';
import { resealStoredSecrets } from './store/secret-reseal.js';
import { VERSION } from './version.js';
import { DeliveryDispatcher } from './webhooks/dispatcher.js';
import { HttpSender } from './webhooks/http-sender.js';
import { RetrySchedule } from './webhooks/retry-schedule.js';

/** The composition root: the only place that knows every part. The core services, plus the servers. */
export interface App extends Omit<Core, 'watchers' | 'close'> {
  /** Undefined when ORDERCAST_WEBHOOK_DISPATCH=false (another process sends). */
  dispatcher: DeliveryDispatcher | undefined;
  http: FastifyInstance;
  /** Every committed event, once, from the broker and the log tail: what the gateways fan out. */
  feed: EventFeed;
  socketio: SocketIoGateway;
  centrifuge: CentrifugeGateway;
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
  watchers: OrderWatchers;
  metrics: Metrics;
  projects: ProjectService;
  auth: AuthService;
  orders: OrderService;
  webhookEndpoints: WebhookEndpointService;
  webhookDeliveries: WebhookDeliveryService;
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
  });
  try {
    const applied = await migrateToLatest(store.db, store.dialect);
    if (applied.length > 0) logger?.info({ migrations: applied }, 'database schema migrated');
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
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

export async function createCore(config: Config, options: AppOptions = {}): Promise<Core> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, pretty: config.logPretty });
  const { store, secrets } = await openStoreWithSecrets(config, logger, options.serving);
  const metrics = new Metrics();
  // Redis carries events between server processes; without it, events stay in this one.
  // The channel defaults to one per database, so deployments sharing a Redis never see each other's events.
  const broker: Broker = config.redisUrl
    ? new RedisBroker(config.redisUrl, config.redisChannel ?? `ordercast:events:${sha256Hex(store.location).slice(0, 16)}`, logger)
    : new MemoryBroker();
  const watchers = new OrderWatchers(broker);
  const projects = new ProjectService(store, secrets);
  const auth = new AuthService(store, projects);
  const orders = new OrderService(store, projects, broker, watchers, {
    orderCreated: () => metrics.ordersCreated.inc(),
    orderTransitioned: (event) => metrics.transitions.inc({ status: event.toStatus }),
  });
  const webhookEndpoints = new WebhookEndpointService(store, projects, {
    allowPrivate: config.webhooks.allowPrivate,
    rotationGraceMs: config.webhooks.rotationGrace,
    secrets,
  });
  const webhookDeliveries = new WebhookDeliveryService(store, webhookEndpoints);
  // Every event, from any writer (API or CLI), queues its webhooks in its own transaction.
  orders.addEventWriteHook(webhookDeliveries.enqueueForEvent);
  metrics.setWebhookQueueProbe(() => webhookDeliveries.queueStats());
  return {
    config,
    logger,
    store,
    secrets,
    broker,
    watchers,
    metrics,
    projects,
    auth,
    orders,
    webhookEndpoints,
    webhookDeliveries,
    async close() {
      watchers.close();
      await broker.close();
      await store.close();
    },
  };
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const core = await createCore(config, { serving: true, ...options });
  const { logger, store, broker, metrics, projects, auth, orders, webhookEndpoints, webhookDeliveries } = core;
  const shutdown = new AbortController();
  const sender = new HttpSender({
    allowPrivate: config.webhooks.allowPrivate,
    timeout: config.webhooks.timeout,
    connectTimeout: config.webhooks.connectTimeout,
    userAgent: `Ordercast/${VERSION}`,
  });
  const dispatcher = config.webhooks.dispatch
    ? new DeliveryDispatcher(
        webhookDeliveries,
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
        },
      )
    : undefined;
  const stopWaking: Array<() => void> = [];
  if (dispatcher) {
    // Hints only: the dispatcher also polls, so events written by other processes are sent too.
    stopWaking.push(broker.subscribe(() => dispatcher.wake()));
    stopWaking.push(webhookDeliveries.onQueued(() => dispatcher.wake()));
  }
  const http = await buildHttpServer({
    logger,
    metrics,
    store,
    auth,
    orders,
    webhookEndpoints,
    webhookDeliveries,
    eventFeed: new EventFeedService(store, broker),
    bodyLimitBytes: config.bodyLimitBytes,
    rateLimitPerSecond: config.rateLimitPerSecond,
    rateLimitBurst: config.rateLimitBurst,
    version: VERSION,
    shutdownSignal: shutdown.signal,
    corsOrigins: config.corsOrigins,
  });

  let retention: { stop(): void } | undefined;
  const reader = new EventLogReader(store);
  const feed = new EventFeed(broker, reader, { pollMs: config.realtime.eventPollMs }, logger);
  const hub = new ChannelHub();
  feed.subscribe((event) => hub.dispatch(event));
  const limiter = new HandshakeLimiter(config.realtime.handshakesPerSecond);
  // Open sockets lose access when their key or token does (expiry, rotation, revocation, in any process).
  const credentials = new CredentialWatcher(store, projects, logger);
  const socketio = new SocketIoGateway(http.server, { auth, orders, reader, hub, metrics, logger, limiter, config: config.realtime, credentials });
  const centrifuge = new CentrifugeGateway(http.server, {
    channels: new LogBackedUserChannels(auth, reader, hub, credentials),
    metrics,
    logger,
    limiter,
    config: config.realtime,
    version: VERSION,
  });

  let closing: Promise<void> | undefined;
  return {
    ...core,
    dispatcher,
    http,
    feed,
    socketio,
    centrifuge,
    async listen() {
      await feed.start();
      await http.listen({ host: config.host, port: config.port });
      retention = startIdempotencyRetention(store, logger);
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
        core.watchers.close();
        for (const stop of stopWaking) stop();
        // Sockets first: open WebSockets would otherwise hold the HTTP server open.
        await centrifuge.close();
        await socketio.close();
        credentials.close();
        await feed.stop();
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
        await core.close();
      })();
      return closing;
    },
  };
}
