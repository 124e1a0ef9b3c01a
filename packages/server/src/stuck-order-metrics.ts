import { Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';

export interface StuckOrderCount {
  projectId: string;
  status: string;
  count: number;
}

/**
 * The stuck-order gauges (docs/timing.md), read from the database at each scrape, so the
 * same on every node (all processes). The total has no label; per project and status only
 * for the projects in ORDERCAST_METRICS_PROJECTS: statuses are each tenant's own, so a
 * label per project and status for every tenant would grow with the tenants and their lifecycles.
 */
export function registerStuckOrderGauges(metrics: Metrics, probe: () => Promise<StuckOrderCount[]>): void {
  let lastRead: Promise<StuckOrderCount[] | undefined> | undefined;
  // Both gauges read the counts once per scrape.
  const read = () => {
    lastRead ??= probe()
      .catch(() => undefined)
      .finally(() => {
        setTimeout(() => (lastRead = undefined), 100).unref?.();
      });
    return lastRead;
  };
  new Gauge({
    name: 'ordercast_orders_stuck',
    help: 'Orders still in a status past their expected time (order.stuck sent, not moved on since), all projects (all processes)',
    registers: [metrics.registry],
    async collect() {
      const counts = await read();
      if (counts) this.set(counts.reduce((sum, c) => sum + c.count, 0));
    },
  });
  new Gauge({
    name: 'ordercast_project_orders_stuck',
    help: 'Orders stuck per status, for the projects listed in ORDERCAST_METRICS_PROJECTS only (all processes)',
    labelNames: ['project', 'status'],
    registers: [metrics.registry],
    async collect() {
      const counts = await read();
      if (!counts) return;
      // A status with no stuck order left drops to 0 rather than keeping its last value.
      this.reset();
      for (const { projectId, status, count } of counts) {
        const project = metrics.projectLabel(projectId);
        if (project) this.set({ project, status }, count);
      }
    },
  });
}
