import type { Selectable } from 'kysely';
import type { DashboardSessionsTable } from '../schema.js';
import type { Executor } from '../transaction.js';

export type DashboardSessionRow = Selectable<DashboardSessionsTable>;

export async function insertDashboardLink(
  db: Executor,
  row: Pick<DashboardSessionRow, 'id' | 'project_id' | 'role' | 'link_hash' | 'link_expires_at' | 'session_seconds' | 'created_by' | 'created_at'>,
): Promise<void> {
  await db
    .insertInto('dashboard_sessions')
    .values({ ...row, session_hash: null, started_at: null, started_address: null, expires_at: null, ended_at: null, end_reason: null })
    .execute();
}

export async function findDashboardLinkByHash(db: Executor, linkHash: string): Promise<DashboardSessionRow | undefined> {
  return db.selectFrom('dashboard_sessions').selectAll().where('link_hash', '=', linkHash).executeTakeFirst();
}

/**
 * Opens the link: one conditional update, so of two requests with the same link only
 * one starts a session. False when the link was used, revoked or lapsed meanwhile.
 */
export async function startDashboardSession(
  db: Executor,
  id: string,
  start: { sessionHash: string; startedAt: string; expiresAt: string; address: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('dashboard_sessions')
    .set({ session_hash: start.sessionHash, started_at: start.startedAt, expires_at: start.expiresAt, started_address: start.address })
    .where('id', '=', id)
    .where('session_hash', 'is', null)
    .where('ended_at', 'is', null)
    .where('link_expires_at', '>', start.startedAt)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The session of a cookie, with whether its project is disabled (a disabled project's sessions are refused). */
export async function findDashboardSessionByHash(
  db: Executor,
  sessionHash: string,
): Promise<(DashboardSessionRow & { project_disabled_at: string | null }) | undefined> {
  return db
    .selectFrom('dashboard_sessions')
    .innerJoin('projects', 'projects.id', 'dashboard_sessions.project_id')
    .selectAll('dashboard_sessions')
    .select('projects.disabled_at as project_disabled_at')
    .where('dashboard_sessions.session_hash', '=', sessionHash)
    .executeTakeFirst();
}

export async function findDashboardSession(db: Executor, projectId: string, id: string): Promise<DashboardSessionRow | undefined> {
  return db.selectFrom('dashboard_sessions').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
}

/** Ends a link or session that has not ended yet; false when there was none. */
export async function endDashboardSession(db: Executor, projectId: string, id: string, reason: 'signed_out' | 'revoked', at: string): Promise<boolean> {
  const result = await db
    .updateTable('dashboard_sessions')
    .set({ ended_at: at, end_reason: reason })
    .where('project_id', '=', projectId)
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A project's links and sessions, newest first. */
export async function listDashboardSessions(db: Executor, projectId: string, limit: number): Promise<DashboardSessionRow[]> {
  return db
    .selectFrom('dashboard_sessions')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** When each of these sessions stops working (its expiry, or when it ended); absent ids no longer exist. */
export async function findDashboardSessionLapses(
  db: Executor,
  ids: string[],
): Promise<Map<string, { expiresAt: string | null; endedAt: string | null; projectDisabled: boolean }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('dashboard_sessions')
    .innerJoin('projects', 'projects.id', 'dashboard_sessions.project_id')
    .select(['dashboard_sessions.id', 'dashboard_sessions.expires_at', 'dashboard_sessions.ended_at', 'projects.disabled_at'])
    .where('dashboard_sessions.id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.id, { expiresAt: r.expires_at, endedAt: r.ended_at, projectDisabled: r.disabled_at !== null }]));
}
