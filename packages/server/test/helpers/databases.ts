import pg from 'pg';

export type TestDialect = 'sqlite' | 'postgres';

/** CI sets this; on a machine without PostgreSQL it is unset and the PostgreSQL suite is skipped. */
export function databaseUrlForTests(): string | undefined {
  return process.env.ORDERCAST_TEST_DATABASE_URL || undefined;
}

export const testDialects: TestDialect[] = databaseUrlForTests() ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * A fresh, empty PostgreSQL schema for one server, so test files can run in
 * parallel on one database. Fails loudly when PostgreSQL is unreachable.
 */
export async function createPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = databaseUrlForTests();
  if (!base) throw new Error('ORDERCAST_TEST_DATABASE_URL is not set');
  const schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}
