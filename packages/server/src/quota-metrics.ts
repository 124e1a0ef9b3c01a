import { Counter, Gauge, type Registry } from 'prom-client';
import { QUOTA_NAMES } from './domain/quotas.js';
import type { ProjectQuotaService, QuotaSnapshot } from './services/project-quotas.js';
import type { QuotaEnforcer } from './services/quota-enforcer.js';

/**
 * Usage against quota per project, on the registry /metrics serves (the metrics port only:
 * these name every tenant). Each scrape reads every project's quotas and endpoint count once
 * (shared by the gauges below); no request path touches them.
 */
export function registerQuotaMetrics(registry: Registry, quotas: ProjectQuotaService, enforcer: QuotaEnforcer): void {
  let lastRead: Promise<QuotaSnapshot | undefined> | undefined;
  const read = () => {
    lastRead ??= quotas
      .snapshot()
      .catch(() => undefined)
      .finally(() => {
        setTimeout(() => (lastRead = undefined), 100).unref?.();
      });
    return lastRead;
  };
  new Gauge({
    name: 'ordercast_project_quota_limit',
    help: "Each project's effective quota (its override, or the server's default), by quota",
    labelNames: ['project', 'quota'],
    registers: [registry],
    async collect() {
      const snapshot = await read();
      if (!snapshot) return;
      this.reset();
      for (const [project, limits] of snapshot.quotas) for (const quota of QUOTA_NAMES) this.set({ project, quota }, limits[quota]);
    },
  });
  new Gauge({
    name: 'ordercast_project_quota_usage',
    help: 'What each project uses against its quota: writes_per_second (writes admitted in the last whole second) and open_connections on this node, webhook_endpoints over all nodes',
    labelNames: ['project', 'quota'],
    registers: [registry],
    async collect() {
      const snapshot = await read();
      if (!snapshot) return;
      this.reset();
      for (const project of snapshot.quotas.keys()) {
        const usage = enforcer.usage(project);
        this.set({ project, quota: 'writes_per_second' }, usage.writesLastSecond);
        this.set({ project, quota: 'open_connections' }, usage.openConnections);
        this.set({ project, quota: 'webhook_endpoints' }, snapshot.endpoints.get(project) ?? 0);
      }
    },
  });
  new Counter({
    name: 'ordercast_project_quota_refusals_total',
    help: 'Requests, connections and endpoints refused with quota_exceeded by this node, by project and quota',
    labelNames: ['project', 'quota'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [project, byQuota] of enforcer.refusals) for (const [quota, count] of byQuota) this.inc({ project, quota }, count);
    },
  });
}
