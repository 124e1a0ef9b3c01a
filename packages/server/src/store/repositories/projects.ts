import type { Lifecycle } from '../../domain/lifecycle.js';
import type { Executor } from '../transaction.js';

export interface ProjectRecord {
  id: string;
  name: string;
  lifecycle: Lifecycle;
  createdAt: string;
  /** When the project was disabled, or null. */
  disabledAt: string | null;
}

/**
 * A project's user-token signing secrets as stored (sealed by the SecretBox):
 * the current one, and the one it replaced while that one's grace lasts.
 */
export interface StoredTokenSecrets {
  projectId: string;
  /** Whether the project is disabled: its user tokens stop like its keys. */
  disabled?: boolean;
  current: string;
  previous: string | null;
  previousExpiresAt: string | null;
}

export async function insertProject(db: Executor, project: ProjectRecord, storedTokenSecret: string): Promise<void> {
  await db
    .insertInto('projects')
    .values({
      id: project.id,
      name: project.name,
      lifecycle: JSON.stringify(project.lifecycle),
      token_secret: storedTokenSecret,
      created_at: project.createdAt,
      disabled_at: project.disabledAt,
    })
    .execute();
}

const PROJECT_COLUMNS = ['id', 'name', 'lifecycle', 'created_at', 'disabled_at'] as const;

function toProject(row: { id: string; name: string; lifecycle: string; created_at: string; disabled_at: string | null }): ProjectRecord {
  return { id: row.id, name: row.name, lifecycle: JSON.parse(row.lifecycle), createdAt: row.created_at, disabledAt: row.disabled_at };
}

export async function findProject(db: Executor, id: string): Promise<ProjectRecord | undefined> {
  const row = await db.selectFrom('projects').select(PROJECT_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toProject(row) : undefined;
}

export async function listProjects(db: Executor): Promise<ProjectRecord[]> {
  const rows = await db.selectFrom('projects').select(PROJECT_COLUMNS).orderBy('created_at').orderBy('id').execute();
  return rows.map(toProject);
}

/** A page of projects in creation order, after the one with id `after` (by its created_at, then id). */
export async function listProjectsPage(db: Executor, page: { after?: { createdAt: string; id: string }; limit: number }): Promise<ProjectRecord[]> {
  const { after } = page;
  const rows = await db
    .selectFrom('projects')
    .select(PROJECT_COLUMNS)
    .$if(after !== undefined, (q) =>
      q.where((eb) => eb.or([eb('created_at', '>', after!.createdAt), eb.and([eb('created_at', '=', after!.createdAt), eb('id', '>', after!.id)])])),
    )
    .orderBy('created_at')
    .orderBy('id')
    .limit(page.limit)
    .execute();
  return rows.map(toProject);
}

export async function renameProject(db: Executor, id: string, name: string): Promise<boolean> {
  const result = await db.updateTable('projects').set({ name }).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Marks a project disabled at `at`, or enabled again with null. Returns whether the project exists. */
export async function setProjectDisabled(db: Executor, id: string, at: string | null): Promise<boolean> {
  const result = await db.updateTable('projects').set({ disabled_at: at }).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function countProjects(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('projects')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The token secrets of these projects (all projects when `ids` is undefined), in one query. */
export async function findTokenSecrets(db: Executor, ids?: readonly string[]): Promise<StoredTokenSecrets[]> {
  if (ids && ids.length === 0) return [];
  const rows = await db
    .selectFrom('projects')
    .select(['id', 'token_secret', 'token_secret_previous', 'token_secret_previous_expires_at', 'disabled_at'])
    .$if(ids !== undefined, (q) => q.where('id', 'in', ids as string[]))
    .execute();
  return rows.map((row) => ({
    projectId: row.id,
    current: row.token_secret,
    previous: row.token_secret_previous,
    previousExpiresAt: row.token_secret_previous_expires_at,
    disabled: row.disabled_at !== null,
  }));
}

/**
 * Replaces a project's token secrets if they are still `expected` (compare and
 * set), so a rotation and a re-encryption running at once never lose a secret.
 * Returns whether the row was written.
 */
export async function replaceTokenSecrets(db: Executor, expected: StoredTokenSecrets, next: Omit<StoredTokenSecrets, 'projectId'>): Promise<boolean> {
  const result = await db
    .updateTable('projects')
    .set({ token_secret: next.current, token_secret_previous: next.previous, token_secret_previous_expires_at: next.previousExpiresAt })
    .where('id', '=', expected.projectId)
    .where('token_secret', '=', expected.current)
    .where((eb) => (expected.previous === null ? eb('token_secret_previous', 'is', null) : eb('token_secret_previous', '=', expected.previous)))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
