import { QUOTA_NAMES, type QuotaChange, type QuotaOverrides } from '../../domain/quotas.js';
import type { Executor } from '../transaction.js';

type QuotaRow = { project_id: string } & Partial<Record<(typeof QUOTA_NAMES)[number], number | string | null>>;

function overridesOf(row: QuotaRow | undefined): QuotaOverrides {
  const overrides: QuotaOverrides = {};
  if (!row) return overrides;
  for (const name of QUOTA_NAMES) {
    const value = row[name];
    // PostgreSQL may hand integers back as strings when a driver setting says so.
    if (value !== null && value !== undefined) overrides[name] = Number(value);
  }
  return overrides;
}

/** A project's own quotas (only those it overrides). */
export async function findQuotaOverrides(db: Executor, projectId: string): Promise<QuotaOverrides> {
  const row = await db
    .selectFrom('project_quotas')
    .select(['project_id', ...QUOTA_NAMES])
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return overridesOf(row);
}

/** Every project's overrides, for the metrics. */
export async function listQuotaOverrides(db: Executor): Promise<Map<string, QuotaOverrides>> {
  const rows = await db
    .selectFrom('project_quotas')
    .select(['project_id', ...QUOTA_NAMES])
    .execute();
  return new Map(rows.map((row) => [row.project_id, overridesOf(row)]));
}

/** Applies a change: a number sets an override, null clears it; quotas the change does not name keep theirs. */
export async function applyQuotaChange(db: Executor, projectId: string, change: QuotaChange, now: string): Promise<QuotaOverrides> {
  const current = await findQuotaOverrides(db, projectId);
  const next: Record<string, number | null> = {};
  for (const name of QUOTA_NAMES) next[name] = name in change ? (change[name] ?? null) : (current[name] ?? null);
  await db
    .insertInto('project_quotas')
    .values({ project_id: projectId, ...next, updated_at: now })
    .onConflict((oc) => oc.column('project_id').doUpdateSet({ ...next, updated_at: now }))
    .execute();
  return overridesOf({ project_id: projectId, ...next });
}

/** How many webhook endpoints each project has (for the metrics: usage against the quota). */
export async function countEndpointsByProject(db: Executor): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select(['project_id', (eb) => eb.fn.countAll<number | string>().as('endpoints')])
    .groupBy('project_id')
    .execute();
  return new Map(rows.map((row) => [row.project_id, Number(row.endpoints)]));
}

/** Every project's id (the metrics show each one's quotas, overridden or not). */
export async function listProjectIds(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('projects').select('id').orderBy('id').execute();
  return rows.map((row) => row.id);
}
