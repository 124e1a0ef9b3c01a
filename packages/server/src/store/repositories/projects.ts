import type { Lifecycle } from '../../domain/lifecycle.js';
import type { Executor } from '../transaction.js';

export interface ProjectRecord {
  id: string;
  name: string;
  lifecycle: Lifecycle;
  createdAt: string;
}

/**
 * A project's user-token signing secrets as stored (sealed by the SecretBox):
 * the current one, and the one it replaced while that one's grace lasts.
 */
export interface StoredTokenSecrets {
  projectId: string;
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
    })
    .execute();
}

function toProject(row: { id: string; name: string; lifecycle: string; created_at: string }): ProjectRecord {
  return { id: row.id, name: row.name, lifecycle: JSON.parse(row.lifecycle), createdAt: row.created_at };
}

export async function findProject(db: Executor, id: string): Promise<ProjectRecord | undefined> {
  const row = await db.selectFrom('projects').select(['id', 'name', 'lifecycle', 'created_at']).where('id', '=', id).executeTakeFirst();
  return row ? toProject(row) : undefined;
}

export async function listProjects(db: Executor): Promise<ProjectRecord[]> {
  const rows = await db.selectFrom('projects').select(['id', 'name', 'lifecycle', 'created_at']).orderBy('created_at').execute();
  return rows.map(toProject);
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
    .select(['id', 'token_secret', 'token_secret_previous', 'token_secret_previous_expires_at'])
    .$if(ids !== undefined, (q) => q.where('id', 'in', ids as string[]))
    .execute();
  return rows.map((row) => ({
    projectId: row.id,
    current: row.token_secret,
    previous: row.token_secret_previous,
    previousExpiresAt: row.token_secret_previous_expires_at,
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
