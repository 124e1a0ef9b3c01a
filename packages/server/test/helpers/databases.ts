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
  const schema = `${schemaPrefixForRun()}${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      // Under vitest the run's global teardown drops every schema of the run instead: a
      // schema dropped while another file's server migrates fails that migration
      // (Kysely's introspection reads every schema of the database).
      if (process.env.ORDERCAST_TEST_SCHEMA_PREFIX) return;
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

/** The prefix of this run's schemas (set by the global setup), so its teardown drops just those. */
export function schemaPrefixForRun(): string {
  return process.env.ORDERCAST_TEST_SCHEMA_PREFIX ?? 't_';
}

/** Drops every schema whose name starts with `prefix`. */
export async function dropSchemasStartingWith(prefix: string): Promise<number> {
  const base = databaseUrlForTests();
  if (!base) return 0;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('select nspname as name from pg_namespace where starts_with(nspname, $1)', [prefix]);
    for (const { name } of rows) await client.query(`drop schema if exists "${name}" cascade`);
    return rows.length;
  } finally {
    await client.end();
  }
}
