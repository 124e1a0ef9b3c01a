import { sql, type Selectable } from 'kysely';
import type { AuditLogTable, OrderEventsTable } from '../schema.js';
import type { Executor } from '../transaction.js';

export type AuditRow = Selectable<AuditLogTable>;
export type ActedEventRow = Pick<
  Selectable<OrderEventsTable>,
  'seq' | 'id' | 'project_id' | 'order_id' | 'type' | 'to_status' | 'from_status' | 'actor' | 'created_at'
>;

export interface AuditFilter {
  projectId: string;
  actions?: string[];
  /** A key or session id, or `cli`. */
  actorId?: string;
  targetId?: string;
  /** ISO times: from (inclusive), until (exclusive). */
  since?: string;
  until?: string;
}

export async function insertAuditEntry(db: Executor, row: Omit<AuditRow, 'seq'>): Promise<void> {
  await db.insertInto('audit_log').values(row).execute();
}

/** Entries of the audit table, newest first, below `beforeSeq`. */
export async function listAuditEntries(db: Executor, filter: AuditFilter, beforeSeq: number | undefined, limit: number): Promise<AuditRow[]> {
  let q = db.selectFrom('audit_log').selectAll().where('project_id', '=', filter.projectId);
  if (filter.actions) q = q.where('action', 'in', filter.actions);
  if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  if (filter.since) q = q.where('created_at', '>=', filter.since);
  if (filter.until) q = q.where('created_at', '<', filter.until);
  if (beforeSeq !== undefined) q = q.where('seq', '<', beforeSeq);
  return q.orderBy('seq', 'desc').limit(limit).execute();
}

/** `_` and `%` are LIKE's wildcards; ids hold `_`. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Order events that say who caused them, newest first, below `beforeSeq`: the audit
 * log's order entries, read from the log itself so the write path writes nothing more.
 */
export async function listActedEvents(
  db: Executor,
  filter: AuditFilter & { types?: string[] },
  beforeSeq: number | undefined,
  limit: number,
): Promise<ActedEventRow[]> {
  let q = db
    .selectFrom('order_events')
    .select(['seq', 'id', 'project_id', 'order_id', 'type', 'from_status', 'to_status', 'actor', 'created_at'])
    .where('project_id', '=', filter.projectId)
    .where('actor', 'is not', null);
  if (filter.types) q = q.where('type', 'in', filter.types);
  if (filter.actorId) {
    const pattern = filter.actorId === 'cli' ? '%"kind":"cli"%' : `%"id":"${likeLiteral(filter.actorId)}"%`;
    q = q.where(sql<boolean>`actor like ${pattern} escape '\\'`);
  }
  if (filter.targetId) q = q.where('order_id', '=', filter.targetId);
  if (filter.since) q = q.where('created_at', '>=', filter.since);
  if (filter.until) q = q.where('created_at', '<', filter.until);
  if (beforeSeq !== undefined) q = q.where('seq', '<', beforeSeq);
  return q.orderBy('seq', 'desc').limit(limit).execute();
}
