import path from 'node:path';
import type { Config } from './config.js';
import type { Broker } from './events/broker.js';
import { isConnectedBroker } from './events/broker.js';
import { MemoryBroker } from './events/memory-broker.js';
import { PostgresBroker } from './events/postgres-broker.js';
import { Waiters } from './events/waiters.js';
import { sha256Hex } from './lib/hashing.js';
import { LogThrottle } from './lib/log-throttle.js';
import { createLogger, type Logger } from './lib/logging.js';
import type { Metrics } from './metrics.js';
import { AuditLog } from './services/audit-log.js';
import { AdminKeyService } from './services/admin-key-service.js';
import { ProjectAdministration } from './services/project-administration.js';
import { AuthService } from './services/auth-service.js';
import { DashboardSessionService } from './services/dashboard-session-service.js';
import { OrderExpungeService } from './services/order-expunge-service.js';
import { OrderReadCache } from './services/order-read-cache.js';
import { OrderService } from './services/order-service.js';
import { ProjectKeyService } from './services/project-key-service.js';
import { ProjectService } from './services/project-service.js';
import { ProjectQuotaService } from './services/project-quotas.js';
import { QuotaEnforcer } from './services/quota-enforcer.js';
import { WebhookDeliveryService } from './services/webhook-delivery-service.js';
import { WebhookEndpointService } from './services/webhook-endpoint-service.js';
import { WebhookStatsService } from './services/webhook-stats-service.js';
import { openStore, type Store } from './store/database.js';
import { loadSecretBox } from './store/encryption-key.js';
import { migrateToLatest } from './store/migrations.js';
import { postgresNotifier } from './store/pg-notify.js';
import type { SecretBox } from './store/secret-box.js';
import { resealStoredSecrets } from './store/secret-reseal.js';
import { DeliveryQueue } from './webhooks/delivery-queue.js';
import { countStuckOrders } from './store/repositories/order-deadlines.js';
import { registerStuckOrderGauges } from './stuck-order-metrics.js';

/*
 * The services without any server: what a one-off CLI command needs, and what app.ts builds
 * the servers on. Kept apart from app.ts so that a command such as `ordercast orders list`
 * does not load Fastify, the gateways and their dependencies.
 */

export interface AppOptions {
  logger?: Logger;
  /** A long-running server (not a one-off CLI command): checkpoint SQLite in the background. */
  serving?: boolean;
  /** What the servers export to Prometheus; a one-off CLI command counts nothing (and does not load prom-client). */
  metrics?: Metrics;
}

/** The services without any server: what CLI commands that touch the database need. */
export interface Core {
  config: Config;
  logger: Logger;
  store: Store;
  /** Seals and opens the secrets stored in the database. */
  secrets: SecretBox;
  broker: Broker;
  /** Long-polls waiting on an order: woken by the log follower (a project's feed follows the hub). */
  orderWaiters: Waiters;
  /** Undefined in a one-off CLI command. */
  metrics: Metrics | undefined;
  projects: ProjectService;
  /** A project's keys, as the admin API and the CLI manage them. */
  projectKeys: ProjectKeyService;
  /** The admin API's own keys (ak_…). */
  adminKeys: AdminKeyService;
  /** Projects and keys provisioned by an operator (admin API, CLI), each change in the audit log. */
  administration: ProjectAdministration;
  auth: AuthService;
  orders: OrderService;
  webhookEndpoints: WebhookEndpointService;
  webhookDeliveries: WebhookDeliveryService;
  /** The dispatcher's claims and outcomes. */
  deliveryQueue: DeliveryQueue;
  webhookStats: WebhookStatsService;
  orderExpunge: OrderExpungeService;
  /** Who changed what: `record` is the one way in. */
  auditLog: AuditLog;
  /** Dashboard sign-in links and the sessions they start. */
  dashboardSessions: DashboardSessionService;
  /** Each project's quotas: the server's defaults and the project's overrides. */
  projectQuotas: ProjectQuotaService;
  /** Holds projects to their quotas where they write, connect, add endpoints. */
  quotaEnforcer: QuotaEnforcer;
  close(): Promise<void>;
}

/** Opens the database and brings its schema up to date. */
export async function openMigratedStore(config: Config, logger?: Logger, serving = false): Promise<Store> {
  const store = openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
    checkpointInBackground: serving,
    // One server per SQLite file, or several joined by Redis; one-off CLI commands share it with them by design.
    serverLock: serving ? (config.redisUrl ? 'shared' : 'exclusive') : undefined,
    onBackgroundError: (message) => logger?.warn({ error: message }, 'SQLite background checkpoint failed; it will be tried again'),
    poolSize: config.databasePoolSize,
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
  const metrics = options.metrics;
  // Redis carries hints between server processes; without it, PostgreSQL does (LISTEN/NOTIFY); on SQLite they stay in this one.
  // The channel defaults to one per database, so deployments sharing a Redis never see each other's events.
  const broker: Broker = config.redisUrl
    ? new (await import('./events/redis-broker.js')).RedisBroker(
        config.redisUrl,
        config.redisChannel ?? `ordercast:events:${sha256Hex(store.location).slice(0, 16)}`,
        logger,
      )
    : store.dialect === 'postgres'
      ? await startPostgresBroker(config, store, logger, Boolean(options.serving))
      : new MemoryBroker();
  if (isConnectedBroker(broker)) metrics?.setBrokerProbe(() => broker.isConnected, broker.transport);
  if (config.databaseListenUrl && !(broker instanceof PostgresBroker)) {
    logger.warn(
      config.redisUrl
        ? 'ORDERCAST_DATABASE_LISTEN_URL is not used: Redis carries hints between nodes'
        : 'ORDERCAST_DATABASE_LISTEN_URL is not used: it is for PostgreSQL',
    );
  }
  const orderWaiters = new Waiters((orderId) => broker.follow({ orderId }));
  const projects = new ProjectService(store, secrets);
  const auth = new AuthService(store, projects);
  const projectQuotas = new ProjectQuotaService(store, projects, config.quotas);
  const quotaEnforcer = new QuotaEnforcer(projectQuotas);
  const orders = new OrderService(
    store,
    projects,
    broker,
    orderWaiters,
    {
      orderCreated: (order) => metrics?.orderCreated(order.projectId),
      orderTransitioned: (event) => metrics?.orderTransitioned(event.projectId, event.toStatus),
    },
    new OrderReadCache(config.orderCacheBytes),
    quotaEnforcer,
  );
  metrics?.setOrderCacheProbe(orders.readCache);
  const webhookEndpoints = new WebhookEndpointService(store, projects, {
    allowPrivate: config.webhooks.allowPrivate,
    rotationGraceMs: config.webhooks.rotationGrace,
    secrets,
    maxInFlightCap: config.webhooks.concurrency,
    quotas: quotaEnforcer,
  });
  const webhookDeliveries = new WebhookDeliveryService(store, webhookEndpoints);
  const deliveryQueue = new DeliveryQueue(store);
  const auditLog = new AuditLog(store);
  const projectKeys = new ProjectKeyService(store, projects);
  const adminKeys = new AdminKeyService(store, () => auth.forgetCachedKeys());
  metrics?.setWebhookQueueProbe(() => deliveryQueue.queueStats());
  if (metrics) registerStuckOrderGauges(metrics, () => countStuckOrders(store.db));
  return {
    config,
    logger,
    store,
    secrets,
    broker,
    orderWaiters,
    metrics,
    projects,
    projectKeys,
    adminKeys,
    administration: new ProjectAdministration(projects, projectKeys, adminKeys, auditLog),
    auth,
    orders,
    webhookEndpoints,
    webhookDeliveries,
    deliveryQueue,
    webhookStats: new WebhookStatsService(store, webhookEndpoints),
    orderExpunge: new OrderExpungeService(store, orders.readCache),
    auditLog,
    dashboardSessions: new DashboardSessionService(store, projects, auditLog),
    projectQuotas,
    quotaEnforcer,
    async close() {
      orderWaiters.close();
      await broker.close();
      await store.close();
    },
  };
}
