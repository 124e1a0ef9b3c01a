import type { FastifyInstance } from 'fastify';
import { MAX_METRICS_PROJECTS, type Config } from './config.js';
import { type AppOptions, type Core, createCore } from './core.js';
import { LogFollower } from './events/log-follower.js';
import { SocketIoSessionRows } from './services/socketio-session-rows.js';
import { HealthService } from './services/health-service.js';
import { isConnectedBroker } from './events/broker.js';
import { interestOfTopic } from './events/channel-hub.js';
import { startMetricsServer, type MetricsServer } from './http/metrics-server.js';
import { buildHttpServer } from './http/server.js';
import { CentrifugeGateway } from './realtime/centrifuge/centrifuge-gateway.js';
import { CentrifugeHttpTransports } from './realtime/centrifuge/http-transports.js';
import { OrderChannels } from './realtime/centrifuge/order-channels.js';
import { UserChannels } from './realtime/centrifuge/user-channels.js';
import { ChannelHub } from './events/channel-hub.js';
import { HandshakeLimiter } from './realtime/handshake-limiter.js';
import { trustedProxyTest } from './lib/client-address.js';
import { SocketIoGateway } from './realtime/socketio/socketio-gateway.js';
import { SseStreams } from './realtime/sse/sse-streams.js';
import { OrderLinkStreams } from './realtime/sse/order-link-stream.js';
import { BrandingService } from './services/branding-service.js';
import { OrderLinkService } from './services/order-link-service.js';
import { RateLimiter } from './lib/rate-limiter.js';
import { CredentialWatcher } from './services/credential-watcher.js';
import { EventLogReader } from './services/event-log-reader.js';
import { startIdempotencyRetention } from './services/idempotency-retention.js';
import { EventFeedService } from './services/event-feed-service.js';
import { TenantPositions } from './services/tenant-position.js';
import { RetentionService } from './services/retention.js';
import { OrderTimingSweeper } from './services/order-timing-sweeper.js';
import { Metrics } from './metrics.js';
import { tracedLogRead } from './events/log-read-span.js';
import { registerQuotaMetrics } from './quota-metrics.js';
import { VERSION } from './version.js';
import { DeliveryDispatcher } from './webhooks/dispatcher.js';
import { HttpSender } from './webhooks/http-sender.js';

/** The composition root: the only place that knows every part. The core services, plus the servers. */
export interface App extends Omit<Core, 'close' | 'metrics'> {
  metrics: Metrics;
  /** Undefined when ORDERCAST_WEBHOOK_DISPATCH=false (another process sends). */
  dispatcher: DeliveryDispatcher | undefined;
  /** Prunes old attempt bodies, deliveries and events in the background (ORDERCAST_RETENTION_*). */
  retention: RetentionService;
  /** Flags orders past their expected time (docs/timing.md). */
  timing: OrderTimingSweeper;
  http: FastifyInstance;
  /** The one follower of the log: every committed event, once, in commit order, to the gateways, long-polls, the feed and the dispatcher. */
  follower: LogFollower;
  /** Routes the follower's events to the real-time subscribers of their topics. */
  hub: ChannelHub;
  socketio: SocketIoGateway;
  centrifuge: CentrifugeGateway;
  /** Server-Sent Events streams (`/api/v2/orders/{id}/stream`, `/api/v2/stream`). */
  sse: SseStreams;
  /** Seals log positions for clients, per project (SSE ids, Socket.IO offsets, feed cursors). */
  positions: TenantPositions;
  /** Where Prometheus scrapes, once listening (undefined when the metrics port is off). */
  metricsUrl: string | undefined;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

/** How often an open buyer stream re-reads its link: a revocation on any node ends it within this. */
const BUYER_LINK_RECHECK_MS = 3000;
/** Per client address on `/o/`, as many at once as this many seconds' worth (ORDERCAST_LINK_RATE_LIMIT a second): a page, its stream and polling fit well within; guessing tokens does not. */
const BUYER_PAGE_BURST_SECONDS = 20;
/** Open streams per link per node: a buyer's tabs and devices, not a link posted in public. */
const BUYER_STREAMS_PER_LINK = 20;

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const metrics = new Metrics({ projects: config.metricsProjects });
  const core = await createCore(config, { serving: true, metrics, ...options });
  // OTEL_* configured: the SDK is loaded now, and only then (lib/tracing-sdk.ts).
  const tracing = config.tracing
    ? await (await import('./lib/tracing-sdk.js')).startTracing(config.tracing, VERSION, core.logger, {
        dropped: (count, reason) => metrics.traceSpansDropped.inc({ reason }, count),
        exported: (count) => metrics.traceSpansExported.inc(count),
      })
    : undefined;
  const { logger, store, broker, projects, auth, orders, webhookEndpoints, webhookDeliveries, orderWaiters } = core;
  registerQuotaMetrics(metrics.registry, core.projectQuotas, core.quotaEnforcer, config.metricsProjects, MAX_METRICS_PROJECTS);
  const shutdown = new AbortController();
  const sender = new HttpSender({
    allowPrivate: config.webhooks.allowPrivate,
    timeout: config.webhooks.timeout,
    connectTimeout: config.webhooks.connectTimeout,
    userAgent: `Ordercast/${VERSION}`,
  });
  const dispatcher = config.webhooks.dispatch
    ? new DeliveryDispatcher(
        core.deliveryQueue,
        sender,
        { delaysMs: config.webhooks.retrySchedule, jitter: config.webhooks.retryJitter, maxRetryAfterMs: config.webhooks.maxRetryAfter },
        metrics,
        logger,
        {
          concurrency: config.webhooks.concurrency,
          endpointConcurrency: config.webhooks.endpointConcurrency,
          pollInterval: config.webhooks.pollInterval,
          timeout: config.webhooks.timeout,
          disableAfter: config.webhooks.disableAfter,
          signingSecrets: (endpoint, nowIso) => webhookEndpoints.signingSecrets(endpoint, nowIso),
          customHeaders: (endpoint) => webhookEndpoints.customHeaders(endpoint),
          failingAfter: config.webhooks.failingAfter,
        },
      )
    : undefined;
  const follower = new LogFollower(
    store.log,
    broker,
    {
      pollMs: config.realtime.eventPollMs,
      settleMs: store.dialect === 'postgres' ? 50 : 0,
      observer: {
        reading: tracing ? tracedLogRead(store.dialect === 'postgres' ? 'postgresql' : 'sqlite') : undefined,
        read: (events) => metrics.logRead(events),
        failed: () => metrics.logFollowerReadErrors.inc(),
      },
    },
    logger,
  );
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
  });
  const stopWaking: Array<() => void> = [];
  if (dispatcher) {
    // Every event's outbox rows commit with it: the follower, which sees each committed event of
    // every process, wakes the dispatcher. Re-sends, recoveries and test events are not events of
    // the log, so the API wakes it for those. The poll covers a wake-up that never came.
    stopWaking.push(follower.subscribe(() => dispatcher.wake()));
    stopWaking.push(webhookDeliveries.onQueued(() => dispatcher.wake()));
  }
  // The one way a log position is handed to a client: sealed per project (services/tenant-position.ts).
  const positions = await TenantPositions.load(store);
  const eventFeed = new EventFeedService(store, positions, hub, () => follower.current);
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
    connectionQuota: core.quotaEnforcer,
  });
  // The buyer's view (docs/buyer-view.md): signed order links, their page and its live stream.
  const branding = new BrandingService(store, core.auditLog);
  const orderLinks = new OrderLinkService(store, orders, projects, branding, core.auditLog);
  const buyerView = {
    links: orderLinks,
    branding,
    streams: new OrderLinkStreams({
      links: orderLinks,
      orders,
      reader: new EventLogReader(store),
      hub,
      logger,
      heartbeatMs: config.sse.heartbeatMs,
      maxBufferedBytes: config.realtime.maxBufferedBytes,
      recheckMs: BUYER_LINK_RECHECK_MS,
      maxStreamsPerLink: BUYER_STREAMS_PER_LINK,
      shutdownSignal: shutdown.signal,
      connectionQuota: core.quotaEnforcer,
    }),
    limiter: new RateLimiter(config.linkRateLimitPerSecond, config.linkRateLimitPerSecond * BUYER_PAGE_BURST_SECONDS),
  };
  const health = new HealthService(store);
  metrics.setDatabaseProbe(() => health.checkDatabase());
  const isTrustedProxy = trustedProxyTest(config.trustProxy);
  const http = await buildHttpServer({
    auditLog: core.auditLog,
    dashboardSessions: core.dashboardSessions,
    credentials,
    trustProxy: isTrustedProxy,
    logger,
    metrics,
    health,
    auth,
    orders,
    projects,
    projectQuotas: core.projectQuotas,
    projectKeys: core.projectKeys,
    adminKeys: core.adminKeys,
    administration: core.administration,
    webhookEndpoints,
    webhookDeliveries,
    eventFeed,
    streams,
    buyerView,
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
  const timing = new OrderTimingSweeper(store, orders, { intervalMs: config.timingSweepMs, logger });
  const pruning = new RetentionService(store, { ...config.retention, pauseMs: 5 }, logger);
  const reader = new EventLogReader(store);
  const limiter = new HandshakeLimiter(config.realtime.handshakesPerSecond, isTrustedProxy);
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
    sessionRows: new SocketIoSessionRows(store),
    positions,
    feed: eventFeed,
    connectionQuota: core.quotaEnforcer,
    followerPosition: () => follower.current,
  });
  const centrifuge = new CentrifugeGateway(http.server, {
    channels: new UserChannels(auth, reader, hub, credentials),
    orders: new OrderChannels(orders, reader, hub),
    metrics,
    logger,
    limiter,
    config: config.realtime,
    version: VERSION,
    connectionQuota: core.quotaEnforcer,
  });
  // centrifuge-js's HTTP-streaming and SSE fallbacks, with their /emulation endpoint.
  await new CentrifugeHttpTransports({ gateway: centrifuge, limiter, maxFrameBytes: config.realtime.maxFrameBytes }).register(http);

  let closing: Promise<void> | undefined;
  return {
    ...core,
    metrics,
    dispatcher,
    retention: pruning,
    timing,
    http,
    follower,
    hub,
    socketio,
    centrifuge,
    sse: streams,
    positions,
    get metricsUrl() {
      return metricsServer?.url;
    },
    async listen() {
      if (config.metricsPort !== undefined) metricsServer = await startMetricsServer(metrics, config.metricsHost, config.metricsPort);
      await follower.start();
      await http.listen({ host: config.host, port: config.port });
      retention = startIdempotencyRetention(store, logger);
      pruning.start();
      timing.start();
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
        await timing.stop();
        orderWaiters.close();
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
        await tracing?.shutdown();
      })();
      return closing;
    },
  };
}
