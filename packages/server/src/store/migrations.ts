import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './database.js';

/**
 * Migrations live in code, in order. One set serves both dialects; the only
 * difference is how the auto-incrementing `seq` column is declared.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const seqColumn = (db: Kysely<any>, table: string) =>
    dialect === 'postgres'
      ? db.schema.createTable(table).addColumn('seq', 'bigserial', (c) => c.primaryKey())
      : db.schema.createTable(table).addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());

  return {
    '0001_core': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('projects')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('lifecycle', 'text', (c) => c.notNull())
          .addColumn('token_secret', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('key_prefix', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text')
          .execute();
        await db.schema.createIndex('api_keys_project').on('api_keys').columns(['project_id', 'kind']).execute();

        await seqColumn(db, 'orders')
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
          .addColumn('external_id', 'text')
          .addColumn('user_external_id', 'text')
          .addColumn('amount', 'text')
          .addColumn('currency', 'text')
          .addColumn('metadata', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('history', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('orders_external_id').on('orders').columns(['project_id', 'external_id']).unique().execute();
        await db.schema.createIndex('orders_project_seq').on('orders').columns(['project_id', 'seq']).execute();
        await db.schema.createIndex('orders_project_user_seq').on('orders').columns(['project_id', 'user_external_id', 'seq']).execute();
        await db.schema.createIndex('orders_project_status_seq').on('orders').columns(['project_id', 'status', 'seq']).execute();
        await db.schema.createIndex('orders_project_created').on('orders').columns(['project_id', 'created_at']).execute();

        await seqColumn(db, 'order_events')
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('order_id', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('event_name', 'text', (c) => c.notNull())
          .addColumn('from_status', 'text')
          .addColumn('to_status', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('user_external_id', 'text')
          .addColumn('user_offset', 'integer')
          .addColumn('snapshot', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        // "events of order X after version V"
        await db.schema.createIndex('order_events_order_version').on('order_events').columns(['order_id', 'version']).unique().execute();
        // "events of user U after offset O" (the user's Centrifuge channel)
        await db.schema
          .createIndex('order_events_user_offset')
          .on('order_events')
          .columns(['project_id', 'user_external_id', 'user_offset'])
          .unique()
          .execute();
        // "events of project P after seq S" (project-wide feeds)
        await db.schema.createIndex('order_events_project_seq').on('order_events').columns(['project_id', 'seq']).execute();

        await db.schema
          .createTable('channel_offsets')
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('user_external_id', 'text', (c) => c.notNull())
          .addColumn('last_offset', 'integer', (c) => c.notNull())
          .addColumn('epoch', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('channel_offsets_pk', ['project_id', 'user_external_id'])
          .execute();

        await db.schema
          .createTable('idempotency_keys')
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('request_hash', 'text', (c) => c.notNull())
          .addColumn('status_code', 'integer', (c) => c.notNull())
          .addColumn('response_body', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_keys_pk', ['project_id', 'key'])
          .execute();
      },
    },
  };
}

class CodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

/** Brings the schema up to date; returns the names of the migrations applied now. */
export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema it can see; on PostgreSQL,
  // name the current one, or a server in schema B skips creating them because schema A has them.
  const schema =
    dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({
    db,
    provider: new CodeMigrationProvider(dialect),
    ...(schema ? { migrationTableSchema: schema } : {}),
    migrationTableName: 'ordercast_migrations',
    migrationLockTableName: 'ordercast_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
