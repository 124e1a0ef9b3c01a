import type { Lifecycle } from '../../domain/lifecycle.js';
import type { Executor } from '../transaction.js';

export interface ProjectRecord {
  id: string;
  name: string;
  lifecycle: Lifecycle;
  tokenSecret: string;
  createdAt: string;
}

export async function insertProject(db: Executor, project: ProjectRecord): Promise<void> {
  await db
    .insertInto('projects')
    .values({
      id: project.id,
      name: project.name,
      lifecycle: JSON.stringify(project.lifecycle),
      token_secret: project.tokenSecret,
      created_at: project.createdAt,
    })
    .execute();
}

function toProject(row: { id: string; name: string; lifecycle: string; token_secret: string; created_at: string }): ProjectRecord {
  return { id: row.id, name: row.name, lifecycle: JSON.parse(row.lifecycle), tokenSecret: row.token_secret, createdAt: row.created_at };
}

export async function findProject(db: Executor, id: string): Promise<ProjectRecord | undefined> {
  const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toProject(row) : undefined;
}

export async function listProjects(db: Executor): Promise<ProjectRecord[]> {
  const rows = await db.selectFrom('projects').selectAll().orderBy('created_at').execute();
  return rows.map(toProject);
}

export async function countProjects(db: Executor): Promise<number> {
  const row = await db.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
