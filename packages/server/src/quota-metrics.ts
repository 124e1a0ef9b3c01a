import { Counter, Gauge, type Registry } from 'prom-client';
import { QUOTA_NAMES, type Quotas } from './domain/quotas.js';
import type { ProjectQuotaService, QuotaSnapshot } from './services/project-quotas.js';
import type { QuotaEnforcer } from './services/quota-enforcer.js';

/** Share of a quota from which a project is shown by name even when not listed. */
const NEAR_QUOTA = 0.8;

/**
 * Usage against quota per project, on the registry /metrics serves (the metrics port only:
 * these name tenants). To keep the series bounded, a project is named only when the
 * operator listed it (ORDERCAST_METRICS_PROJECTS), or when it matters now: a quota refused
 * it on this node, or it uses 80 % or more of one; at most `maxProjects` of the latter.
 * The refusals are also counted for all projects together, by quota. Each scrape reads
 * every project's quotas and endpoint count once (shared by the gauges below); no request
 * path touches them.
 */
export function registerQuotaMetrics(
  registry: Registry,
  quotas: ProjectQuotaService,
  enforcer: QuotaEnforcer,
  listed: readonly string[],
  maxProjects: number,
): void {
  const always = new Set(listed);
  const shown = (snapshot: QuotaSnapshot): string[] => {
    const named: string[] = [];
    for (const [project, limits] of snapshot.quotas) {
      if (always.has(project)) continue;
      const usage = enforcer.usage(project);
      const near =
        usage.writesLastSecond >= NEAR_QUOTA * limits.writes_per_second ||
        usage.openConnections >= NEAR_QUOTA * limits.open_connections ||
        (snapshot.endpoints.get(project) ?? 0) >= NEAR_QUOTA * limits.webhook_endpoints;
      if (near || enforcer.refusals.has(project)) named.push(project);
    }
    return [...always, ...named.slice(0, maxProjects)].filter((project) => snapshot.quotas.has(project));
  };
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
  /** A gauge over the projects shown at this scrape, each with the figures `figuresOf` gives it, by quota. */
  const projectGauge = (name: string, help: string, figuresOf: (project: string, snapshot: QuotaSnapshot) => Partial<Quotas>) =>
    new Gauge({
      name,
      help,
      labelNames: ['project', 'quota'],
      registers: [registry],
      async collect() {
        const snapshot = await read();
        if (!snapshot) return;
        this.reset();
        for (const project of shown(snapshot)) {
          const figures = figuresOf(project, snapshot);
          for (const quota of QUOTA_NAMES) {
            const value = figures[quota];
            if (value !== undefined) this.set({ project, quota }, value);
          }
        }
      },
    });
  projectGauge(
    'ordercast_project_quota_limit',
    "Each project's effective quota (its override, or the server's default), by quota",
    (project, snapshot) => snapshot.quotas.get(project) ?? {},
  );
  projectGauge(
    'ordercast_project_quota_usage',
    'What each project uses against its quota: writes_per_second (writes admitted in the last whole second) and open_connections on this node, webhook_endpoints over all nodes',
    (project, snapshot) => {
      const usage = enforcer.usage(project);
      return { writes_per_second: usage.writesLastSecond, open_connections: usage.openConnections, webhook_endpoints: snapshot.endpoints.get(project) ?? 0 };
    },
  );
  new Counter({
    name: 'ordercast_project_quota_refusals_total',
    help: 'Requests, connections and endpoints refused with quota_exceeded by this node, by project (those shown by name) and quota',
    labelNames: ['project', 'quota'],
    registers: [registry],
    collect() {
      this.reset();
      let named = 0;
      for (const [project, byQuota] of enforcer.refusals) {
        if (!always.has(project) && named++ >= maxProjects) continue;
        for (const [quota, count] of byQuota) this.inc({ project, quota }, count);
      }
    },
  });
  new Counter({
    name: 'ordercast_quota_refusals_total',
    help: 'Requests, connections and endpoints refused with quota_exceeded by this node, all projects together, by quota',
    labelNames: ['quota'],
    registers: [registry],
    collect() {
      this.reset();
      for (const byQuota of enforcer.refusals.values()) for (const [quota, count] of byQuota) this.inc({ quota }, count);
    },
  });
}
