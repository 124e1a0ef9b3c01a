import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus metrics of one server process. */
export class Metrics {
  readonly registry = new Registry();
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
  messageSent(gateway: 'socketio' | 'centrifuge', committedAt: string): void {
    this.realtimeMessages.inc({ gateway });
    const ms = Date.now() - Date.parse(committedAt);
    if (Number.isFinite(ms)) this.fanoutLatency.observe({ gateway }, Math.max(0, ms) / 1000);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ordercast_' });
  }
}
