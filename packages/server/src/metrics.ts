import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Reads the webhook queue when /metrics is scraped. */
export type WebhookQueueProbe = () => Promise<WebhookQueueStats>;

export interface WebhookQueueStats {
  pending: number;
  oldestPendingCreatedAt: string | null;
  failingEndpoints: number;
}

/** What the order read cache reports at each scrape. */
export interface OrderCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly sizeBytes: number;
}

/** How a webhook endpoint stood when one of its deliveries got its 2xx (the label of the delivery lag). */
export type EndpointState = 'healthy' | 'failing' | 'rate_limited';

export interface MetricsOptions {
  /**
   * ORDERCAST_METRICS_PROJECTS: the projects counted under their own `project` label. Off
   * (empty) by default: a label per project of hundreds would grow every series with the
   * tenants, so only a list the operator chose, and bounded (config.ts), gets one.
   */
  projects?: readonly string[];
}

/** prom-client's default gauges named like counters, which `promtool check metrics` refuses; the per-type gauges beside them carry the same numbers. */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The Prometheus metrics of one server process (every metric is listed in docs/operations.md, Metrics). */
export class Metrics {
  readonly registry = new Registry();
  private readonly labelledProjects: ReadonlySet<string>;
  private queueProbe: WebhookQueueProbe | undefined;
  private databaseProbe: (() => Promise<void>) | undefined;
  private brokerProbe: (() => boolean) | undefined;
  private orderCache: OrderCacheStats | undefined;
  private brokerName = 'redis';

  readonly httpDuration = new Histogram({
    name: 'ordercast_http_request_duration_seconds',
    help: 'HTTP request latency by route and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly ordersCreated = new Counter({
    name: 'ordercast_orders_created_total',
    help: 'Orders created',
    registers: [this.registry],
  });
  readonly transitions = new Counter({
    name: 'ordercast_order_transitions_total',
    help: 'Order status transitions, by the status entered',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'ordercast_webhook_deliveries_total',
    help: 'Webhook deliveries finished by this process, by outcome (succeeded, or failed: given up)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly webhookAttemptDuration = new Histogram({
    name: 'ordercast_webhook_attempt_duration_seconds',
    help: 'Webhook attempt latency, by outcome (success, http_4xx, http_5xx, timeout, connection_refused, address_not_allowed, …)',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [this.registry],
  });
  readonly webhookEndpointsDisabled = new Counter({
    name: 'ordercast_webhook_endpoints_disabled_total',
    help: 'Webhook endpoints disabled automatically (410 Gone, or failing for too long)',
    registers: [this.registry],
  });
  readonly webhookQueueDepth: Gauge;
  readonly brokerConnected: Gauge;
  readonly webhookOldestPendingAge: Gauge;
  readonly webhookEndpointsFailing: Gauge;

  readonly realtimeConnections = new Gauge({
    name: 'ordercast_realtime_connections',
    help: 'Open real-time connections, by gateway (socketio, centrifuge)',
    labelNames: ['gateway'],
    registers: [this.registry],
  });
  readonly realtimeSubscriptions = new Gauge({
    name: 'ordercast_realtime_subscriptions',
    help: 'Live subscriptions, by gateway',
    labelNames: ['gateway'],
    registers: [this.registry],
  });
  readonly realtimeMessages = new Counter({
    name: 'ordercast_realtime_messages_sent_total',
    help: 'Order updates and publications written to sockets, by gateway',
    labelNames: ['gateway'],
    registers: [this.registry],
  });
  readonly fanoutLatency = new Histogram({
    name: 'ordercast_realtime_fanout_latency_seconds',
    help: 'From the commit of an event to its write on a socket, by gateway',
    labelNames: ['gateway'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly webhookDeliveryLag = new Histogram({
    name: 'ordercast_webhook_delivery_lag_seconds',
    help: 'From the commit of an event to the 2xx of its webhook delivery, by the state of the endpoint (healthy, failing, rate_limited)',
    labelNames: ['endpoint_state'],
    // Retries stretch a delivery from milliseconds to the hours of the retry schedule.
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400],
    registers: [this.registry],
  });
  readonly logFollowerLag = new Histogram({
    name: 'ordercast_log_follower_lag_seconds',
    help: 'From the commit of an event to the moment the log follower of this process hands it to its readers',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly logFollowerLastRead = new Gauge({
    name: 'ordercast_log_follower_last_read_timestamp_seconds',
    help: 'When the log follower of this process last read the log successfully (Unix time): a follower that stopped reading falls behind',
    registers: [this.registry],
  });
  readonly logFollowerReadErrors = new Counter({
    name: 'ordercast_log_follower_read_errors_total',
    help: 'Reads of the log by the log follower that failed (it retries on the next hint or tick)',
    registers: [this.registry],
  });
  readonly projectOrdersCreated = new Counter({
    name: 'ordercast_project_orders_created_total',
    help: 'Orders created, for the projects listed in ORDERCAST_METRICS_PROJECTS only',
    labelNames: ['project'],
    registers: [this.registry],
  });
  readonly projectTransitions = new Counter({
    name: 'ordercast_project_order_transitions_total',
    help: 'Order status transitions, for the projects listed in ORDERCAST_METRICS_PROJECTS only',
    labelNames: ['project'],
    registers: [this.registry],
  });
  readonly projectWebhookDeliveries = new Counter({
    name: 'ordercast_project_webhook_deliveries_total',
    help: 'Webhook deliveries finished by this process by outcome, for the projects listed in ORDERCAST_METRICS_PROJECTS only',
    labelNames: ['project', 'outcome'],
    registers: [this.registry],
  });

  readonly traceSpansDropped = new Counter({
    name: 'ordercast_trace_spans_dropped_total',
    help: 'Trace spans lost before reaching the collector, by reason (queue_full: the export queue was full; export_failed: the collector did not take them)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly traceSpansExported = new Counter({
    name: 'ordercast_trace_spans_exported_total',
    help: 'Trace spans the OTLP collector accepted (0 while tracing is off)',
    registers: [this.registry],
  });

  /** The `project` label of a project listed in ORDERCAST_METRICS_PROJECTS; undefined for every other project. */
  projectLabel(projectId: string): string | undefined {
    return this.labelledProjects.has(projectId) ? projectId : undefined;
  }

  orderCreated(projectId: string): void {
    this.ordersCreated.inc();
    const project = this.projectLabel(projectId);
    if (project) this.projectOrdersCreated.inc({ project });
  }

  orderTransitioned(projectId: string, status: string): void {
    this.transitions.inc({ status });
    const project = this.projectLabel(projectId);
    if (project) this.projectTransitions.inc({ project });
  }

  /** The follower of this process read `events` (commit times in `createdAt`). */
  logRead(events: readonly { createdAt: string }[]): void {
    const now = Date.now();
    this.logFollowerLastRead.set(now / 1000);
    for (const event of events) {
      const ms = now - Date.parse(event.createdAt);
      if (Number.isFinite(ms)) this.logFollowerLag.observe(Math.max(0, ms) / 1000);
    }
  }

  /** Counts one message written to a socket for `event` (its createdAt is the commit time). */
  messageSent(gateway: 'socketio' | 'centrifuge' | 'sse', committedAt: string): void {
    this.realtimeMessages.inc({ gateway });
    const ms = Date.now() - Date.parse(committedAt);
    if (Number.isFinite(ms)) this.fanoutLatency.observe({ gateway }, Math.max(0, ms) / 1000);
  }

  constructor(options: MetricsOptions = {}) {
    this.labelledProjects = new Set(options.projects ?? []);
    collectDefaultMetrics({ register: this.registry, prefix: 'ordercast_' });
    for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(`ordercast_${name}`);
    const metrics = this;
    let lastRead: Promise<WebhookQueueStats | undefined> | undefined;
    // Both gauges read the queue once per scrape.
    const readQueue = () => {
      lastRead ??= (metrics.queueProbe?.() ?? Promise.resolve(undefined))
        .catch(() => undefined)
        .finally(() => {
          setTimeout(() => (lastRead = undefined), 100).unref?.();
        });
      return lastRead;
    };
    // The cache counts for itself (no metrics code on the polling hot path); scrapes copy its totals.
    for (const [name, help, read] of [
      ['ordercast_order_cache_hits_total', 'Polls of one order answered from the read cache', (stats: OrderCacheStats) => stats.hits],
      ['ordercast_order_cache_misses_total', 'Polls of one order that read the database', (stats: OrderCacheStats) => stats.misses],
    ] as const) {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          if (!metrics.orderCache) return;
          this.reset();
          this.inc(read(metrics.orderCache));
        },
      });
    }
    new Gauge({
      name: 'ordercast_order_cache_bytes',
      help: 'Approximate memory held by the order read cache (bounded by ORDERCAST_ORDER_CACHE_MB)',
      registers: [this.registry],
      collect() {
        if (metrics.orderCache) this.set(metrics.orderCache.sizeBytes);
      },
    });
    this.brokerConnected = new Gauge({
      name: 'ordercast_broker_connected',
      help: 'Whether the connection that carries hints between processes (Redis, or the PostgreSQL LISTEN connection) is up (1) or down (0); absent on a single process',
      labelNames: ['broker'],
      registers: [this.registry],
      collect() {
        if (metrics.brokerProbe) this.set({ broker: metrics.brokerName }, metrics.brokerProbe() ? 1 : 0);
      },
    });
    this.webhookQueueDepth = new Gauge({
      name: 'ordercast_webhook_queue_depth',
      help: 'Webhook deliveries waiting to be sent or retried (all processes)',
      registers: [this.registry],
      async collect() {
        const stats = await readQueue();
        if (stats) this.set(stats.pending);
      },
    });
    this.webhookOldestPendingAge = new Gauge({
      name: 'ordercast_webhook_oldest_pending_age_seconds',
      help: 'Age of the oldest webhook delivery not yet delivered or given up (0 when the queue is empty)',
      registers: [this.registry],
      async collect() {
        const stats = await readQueue();
        if (stats) this.set(stats.oldestPendingCreatedAt ? Math.max(0, (Date.now() - Date.parse(stats.oldestPendingCreatedAt)) / 1000) : 0);
      },
    });
    new Gauge({
      name: 'ordercast_database_up',
      help: 'Whether the database answered a trivial query at this scrape (1) or not within 2 seconds (0)',
      registers: [this.registry],
      async collect() {
        if (!metrics.databaseProbe) return;
        this.set(await answersWithin(metrics.databaseProbe, 2_000));
      },
    });
    this.webhookEndpointsFailing = new Gauge({
      name: 'ordercast_webhook_endpoints_failing',
      help: 'Enabled webhook endpoints whose attempts keep failing (endpoint.failing was announced; all processes)',
      registers: [this.registry],
      async collect() {
        const stats = await readQueue();
        if (stats) this.set(stats.failingEndpoints);
      },
    });
  }

  /** With Redis: whether its connection is up, read at each scrape. */
  /** `name`: what carries hints between processes (`redis`, or `postgres` for LISTEN/NOTIFY). */
  setBrokerProbe(probe: () => boolean, name = 'redis'): void {
    this.brokerProbe = probe;
    this.brokerName = name;
  }

  /** The order read cache's hits, misses and size, read at each scrape. */
  setOrderCacheProbe(cache: OrderCacheStats): void {
    this.orderCache = cache;
  }

  /** A trivial query, run at each scrape: whether the database answers. */
  setDatabaseProbe(probe: () => Promise<void>): void {
    this.databaseProbe = probe;
  }

  setWebhookQueueProbe(probe: WebhookQueueProbe): void {
    this.queueProbe = probe;
  }
}

/** 1 when `probe` resolves within `ms`, else 0: a scrape never waits on a database that hangs. */
async function answersWithin(probe: () => Promise<void>, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(0), ms);
  });
  try {
    return await Promise.race([
      probe().then(
        () => 1,
        () => 0,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
