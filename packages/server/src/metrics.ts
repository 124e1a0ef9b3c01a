import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Reads the webhook queue when /metrics is scraped. */
export type WebhookQueueProbe = () => Promise<{ pending: number; oldestPendingCreatedAt: string | null }>;

/** The Prometheus metrics of one server process. */
/** What the order read cache reports at each scrape. */
export interface OrderCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly sizeBytes: number;
}

export class Metrics {
  readonly registry = new Registry();
  private queueProbe: WebhookQueueProbe | undefined;
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

  /** Counts one message written to a socket for `event` (its createdAt is the commit time). */
  messageSent(gateway: 'socketio' | 'centrifuge' | 'sse', committedAt: string): void {
    this.realtimeMessages.inc({ gateway });
    const ms = Date.now() - Date.parse(committedAt);
    if (Number.isFinite(ms)) this.fanoutLatency.observe({ gateway }, Math.max(0, ms) / 1000);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ordercast_' });
    const metrics = this;
    let lastRead: Promise<{ pending: number; oldestPendingCreatedAt: string | null } | undefined> | undefined;
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

  setWebhookQueueProbe(probe: WebhookQueueProbe): void {
    this.queueProbe = probe;
  }
}
