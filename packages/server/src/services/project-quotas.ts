import { effectiveQuotas, validateQuotaChange, type QuotaOverrides, type Quotas } from '../domain/quotas.js';
import type { Store } from '../store/database.js';
import { applyQuotaChange, countEndpointsByProject, findQuotaOverrides, listProjectIds, listQuotaOverrides } from '../store/repositories/project-quotas.js';
import type { ProjectService } from './project-service.js';

/**
 * How long a project's effective quotas are used before they are read again: a change made
 * on another node (or by the CLI) takes effect within it, and the write path reads the
 * database once per project per lifetime at most, never per request (as the key cache does).
 */
export const QUOTA_CACHE_MS = 5_000;
/** Projects whose quotas are held at once; past it the cache starts again (it refills in one read each). */
const QUOTA_CACHE_SIZE = 50_000;

/** A project's quotas as the API shows them: what applies, what the project overrides, and the server's defaults. */
export interface ProjectQuotasView {
  object: 'project_quotas';
  projectId: string;
  /** What applies now: the overrides over the defaults. */
  quotas: Quotas;
  /** The project's own values (only the quotas it overrides). */
  overrides: QuotaOverrides;
  /** The server's defaults (ORDERCAST_QUOTA_*). */
  defaults: Quotas;
}

/** Every project's effective quotas and webhook endpoints, read at a metrics scrape. */
export interface QuotaSnapshot {
  quotas: Map<string, Quotas>;
  endpoints: Map<string, number>;
}

/**
 * Per-project quotas: the server's defaults, overridden per project by an operator
 * (the admin API, `ordercast projects quotas`). Reading is cached per project for
 * QUOTA_CACHE_MS; a change made through this service applies on this node at once.
 */
export class ProjectQuotaService {
  private readonly cache = new Map<string, { quotas: Quotas; until: number }>();
  /** One database read per project however many requests miss the cache together. */
  private readonly loading = new Map<string, Promise<Quotas>>();
  /** Moves on at every change made here, so a read that began before a change does not cache what it replaced. */
  private changes = 0;

  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
    readonly defaults: Quotas,
    private readonly cacheMs = QUOTA_CACHE_MS,
  ) {}

  /** The quotas that apply to a project now; synchronous when cached, so the hot path costs no promise. */
  effective(projectId: string): Quotas | Promise<Quotas> {
    const entry = this.cache.get(projectId);
    if (entry && entry.until >= Date.now()) return entry.quotas;
    const pending = this.loading.get(projectId);
    if (pending) return pending;
    const changesBefore = this.changes;
    const load = findQuotaOverrides(this.store.db, projectId)
      .then((overrides) => {
        const quotas = effectiveQuotas(this.defaults, overrides);
        if (this.changes === changesBefore) this.remember(projectId, quotas);
        return quotas;
      })
      .finally(() => {
        if (this.loading.get(projectId) === load) this.loading.delete(projectId);
      });
    this.loading.set(projectId, load);
    return load;
  }

  /** A project's quotas, read from the database (not the cache): what an operator just set is what they see. */
  async describe(projectId: string): Promise<ProjectQuotasView> {
    await this.requireProject(projectId);
    const overrides = await findQuotaOverrides(this.store.db, projectId);
    return this.view(projectId, overrides);
  }

  /**
   * Sets or clears a project's overrides: `{ writes_per_second: 100 }` sets one,
   * `{ writes_per_second: null }` returns it to the default; quotas not named keep theirs.
   * A bad name or value refuses the whole change (`invalid_quota`), so nothing is half applied.
   */
  async update(projectId: string, change: unknown): Promise<ProjectQuotasView> {
    const valid = validateQuotaChange(change);
    await this.requireProject(projectId);
    const overrides = await applyQuotaChange(this.store.db, projectId, valid, new Date().toISOString());
    // Other nodes see it within QUOTA_CACHE_MS; this one at once.
    this.changes++;
    this.cache.delete(projectId);
    this.loading.delete(projectId);
    return this.view(projectId, overrides);
  }

  /** Every project's effective quotas and endpoint count, for /metrics (read once per scrape, not on any request). */
  async snapshot(): Promise<QuotaSnapshot> {
    const [ids, overrides, endpoints] = await Promise.all([
      listProjectIds(this.store.db),
      listQuotaOverrides(this.store.db),
      countEndpointsByProject(this.store.db),
    ]);
    const quotas = new Map(ids.map((id) => [id, effectiveQuotas(this.defaults, overrides.get(id) ?? {})]));
    return { quotas, endpoints };
  }

  private view(projectId: string, overrides: QuotaOverrides): ProjectQuotasView {
    return { object: 'project_quotas', projectId, quotas: effectiveQuotas(this.defaults, overrides), overrides, defaults: { ...this.defaults } };
  }

  private remember(projectId: string, quotas: Quotas): void {
    if (this.cache.size >= QUOTA_CACHE_SIZE) this.cache.clear();
    this.cache.set(projectId, { quotas, until: Date.now() + this.cacheMs });
  }

  /** `project_not_found` for an unknown project, before anything is written. */
  private async requireProject(projectId: string): Promise<void> {
    await this.projects.get(projectId);
  }
}
