import { randomBytes } from 'node:crypto';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { RECENT_HISTORY_LIMIT } from '../domain/order-decisions.js';
import type { Dialect } from './dialect.js';
import { tenantMigrations } from './migrations-tenants.js';

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

    '0002_webhooks': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('webhook_endpoints')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          // JSON array of event names, or null for every event
          .addColumn('enabled_events', 'text')
          // JSON array of {secret, expiresAt}: the first signs forever, the others until expiresAt (rotation grace)
          .addColumn('secrets', 'text', (c) => c.notNull())
          .addColumn('disabled_at', 'text')
          .addColumn('disabled_reason', 'text')
          // start of the current run of failed attempts; null after any success
          .addColumn('failing_since', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('webhook_endpoints_project').on('webhook_endpoints').columns(['project_id', 'created_at']).execute();

        // The outbox: one row per (event, endpoint), written in the event's transaction.
        await seqColumn(db, 'webhook_deliveries')
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('endpoint_id', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('event_name', 'text', (c) => c.notNull())
          // null for test events, which are not ordered with anything
          .addColumn('order_id', 'text')
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempt_count', 'integer', (c) => c.notNull())
          // index into the retry schedule; reset by redeliver and recover
          .addColumn('schedule_step', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'text', (c) => c.notNull())
          .addColumn('locked_until', 'text')
          .addColumn('locked_by', 'text')
          .addColumn('last_status_code', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('completed_at', 'text')
          .execute();
        // Partial indexes over pending rows only: they stay small however long the log grows.
        // "due deliveries", in claim order, so the claim reads the first few rows and stops.
        await db.schema
          .createIndex('webhook_deliveries_due')
          .on('webhook_deliveries')
          .columns(['next_attempt_at', 'seq'])
          .where(sql.ref('status'), '=', 'pending')
          .execute();
        // "is an older delivery of this order to this endpoint still pending?" (per-order ordering)
        await db.schema
          .createIndex('webhook_deliveries_pending_order')
          .on('webhook_deliveries')
          .columns(['endpoint_id', 'order_id', 'seq'])
          .where(sql.ref('status'), '=', 'pending')
          .execute();
        await db.schema.createIndex('webhook_deliveries_project_seq').on('webhook_deliveries').columns(['project_id', 'seq']).execute();
        // "failed deliveries of an endpoint in a time window" (recover). Partial on failed rows,
        // so the planner never mistakes it for the pending-order index above.
        await db.schema
          .createIndex('webhook_deliveries_failed')
          .on('webhook_deliveries')
          .columns(['endpoint_id', 'created_at'])
          .where(sql.ref('status'), '=', 'failed')
          .execute();

        await seqColumn(db, 'webhook_attempts')
          .addColumn('delivery_id', 'text', (c) => c.notNull())
          .addColumn('endpoint_id', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('attempted_at', 'text', (c) => c.notNull())
          .addColumn('duration_ms', 'integer', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('status_code', 'integer')
          .addColumn('response_headers', 'text')
          .addColumn('response_body', 'text')
          .addColumn('error_code', 'text')
          .addColumn('error', 'text')
          .execute();
        await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').columns(['delivery_id', 'seq']).execute();
      },
    },

    '0003_log_append': {
      async up(db: Kysely<any>) {
        // The history is the log: an order keeps only its latest few changes.
        await db.schema.alterTable('orders').renameColumn('history', 'recent_history').execute();
        let after = 0;
        for (;;) {
          const rows = await db.selectFrom('orders').select(['seq', 'recent_history']).where('seq', '>', after).orderBy('seq').limit(500).execute();
          if (rows.length === 0) break;
          for (const row of rows) {
            const history = JSON.parse(row.recent_history) as unknown[];
            if (history.length > RECENT_HISTORY_LIMIT) {
              await db
                .updateTable('orders')
                .set({ recent_history: JSON.stringify(history.slice(-RECENT_HISTORY_LIMIT)) })
                .where('seq', '=', row.seq)
                .execute();
            }
          }
          after = Number(rows[rows.length - 1].seq);
        }
        // The id of the transaction that wrote each event: followers read PostgreSQL's log
        // only below the oldest transaction still in flight, so none is ever skipped
        // (see store/log-reading.ts). SQLite has one writer: seq alone is commit order.
        if (dialect === 'postgres') {
          await sql`alter table order_events add column tx_id bigint not null default (pg_current_xact_id()::text::bigint)`.execute(db);
          await db.schema.createIndex('order_events_tx_seq').on('order_events').columns(['tx_id', 'seq']).execute();
          await db.schema.createIndex('order_events_project_tx_seq').on('order_events').columns(['project_id', 'tx_id', 'seq']).execute();
        } else {
          await db.schema
            .alterTable('order_events')
            .addColumn('tx_id', 'integer', (c) => c.notNull().defaultTo(0))
            .execute();
        }
        // The outbox insert picks a project's enabled endpoints in the append's own statement.
        await db.schema
          .createIndex('webhook_endpoints_project_enabled')
          .on('webhook_endpoints')
          .columns(['project_id'])
          .where(sql.ref('disabled_at'), 'is', null)
          .execute();
      },
    },
    // The user-token secret becomes rotatable with overlap. Encrypting the stored secrets needs
    // the key, which migrations do not see: the on-start pass in store/secret-reseal.ts does it.
    '0004_encrypted_secrets': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('projects').addColumn('token_secret_previous', 'text').execute();
        await db.schema.alterTable('projects').addColumn('token_secret_previous_expires_at', 'text').execute();
      },
    },

    '0005_settings': {
      async up(db: Kysely<any>) {
        // Values the whole deployment shares, made once: every node reads the same ones.
        await db.schema
          .createTable('ordercast_settings')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await db
          .insertInto('ordercast_settings')
          .values({ name: 'feed_cursor_key', value: randomBytes(32).toString('hex') })
          .execute();
      },
    },

    '0006_webhook_product': {
      async up(db: Kysely<any>) {
        // Per-endpoint settings: custom headers (sealed JSON, as they may carry credentials), a
        // rate limit, metadata; the next free send slot of a rate-limited endpoint (ms since the
        // epoch, shared by every dispatcher); the health the stats and operational events report.
        await db.schema.alterTable('webhook_endpoints').addColumn('headers', 'text').execute();
        await db.schema.alterTable('webhook_endpoints').addColumn('rate_limit', 'integer').execute();
        await db.schema
          .alterTable('webhook_endpoints')
          .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
          .execute();
        // Fractional: an interval of 1000 / rateLimit ms is rarely whole.
        await db.schema.alterTable('webhook_endpoints').addColumn('next_send_at_ms', 'double precision').execute();
        await db.schema
          .alterTable('webhook_endpoints')
          .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('webhook_endpoints').addColumn('healthy_since', 'text').execute();
        await db
          .updateTable('webhook_endpoints')
          .set({ healthy_since: sql.ref('created_at') })
          .execute();
        // Stats: "attempts to endpoint E since T".
        await db.schema.createIndex('webhook_attempts_endpoint_time').on('webhook_attempts').columns(['endpoint_id', 'attempted_at']).execute();
        // Retention: delivered deliveries by age; expunge: an order's deliveries.
        await db.schema
          .createIndex('webhook_deliveries_succeeded')
          .on('webhook_deliveries')
          .columns(['completed_at'])
          .where(sql.ref('status'), '=', 'succeeded')
          .execute();
        await db.schema.createIndex('webhook_deliveries_order').on('webhook_deliveries').columns(['order_id']).execute();
        // What `POST /orders/{id}/expunge` wiped, and when.
        await db.schema
          .createTable('order_expunges')
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('order_id', 'text', (c) => c.notNull())
          .addColumn('expunged_at', 'text', (c) => c.notNull())
          .addColumn('events', 'integer', (c) => c.notNull())
          .addColumn('deliveries', 'integer', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('order_expunges_order').on('order_expunges').columns(['project_id', 'order_id']).execute();
      },
    },

    '0007_socketio_sessions': {
      async up(db: Kysely<any>) {
        // What each recoverable Socket.IO session follows, so that one offset (a log position) serves every socket.
        await db.schema
          .createTable('socketio_sessions')
          .addColumn('session_id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull())
          .addColumn('subscriptions', 'text', (c) => c.notNull())
          .addColumn('connected_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('socketio_sessions_expiry').on('socketio_sessions').columns(['expires_at']).execute();
      },
    },

    '0008_webhook_endpoint_lanes': {
      async up(db: Kysely<any>) {
        // Each endpoint's lane: how many of its deliveries may be in flight at once (null: the server's default).
        await db.schema.alterTable('webhook_endpoints').addColumn('max_in_flight', 'integer').execute();
        // "which deliveries of this endpoint are leased?" (the lane's occupancy, read by every claim):
        // leases are few, so the index stays small whatever the backlog.
        await db.schema
          .createIndex('webhook_deliveries_leased')
          .on('webhook_deliveries')
          .columns(['endpoint_id', 'locked_until'])
          .where(sql.ref('locked_by'), 'is not', null)
          .execute();
      },
    },

    ...tenantMigrations(seqColumn),
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
  // Kysely's migrator starts by listing every table of every schema in the database, which
  // takes long where a database holds many schemas; a schema already up to date (every
  // start but the first after an upgrade) is told by one indexed look-up instead.
  if (await isUpToDate(db, dialect)) return [];
  if (dialect === 'sqlite') return migrateOn(db, dialect);
  // The pool's connections ask for generic plans (database.ts), which suit the write path
  // and not the migrator's catalog look-ups: with generic plans those scan the catalogs,
  // and a start-up in a database of many tables ran past a short statement timeout. So the
  // migrations run on one connection with the planner's own choice, restored after.
  return db.connection().execute(async (connection) => {
    await sql`set plan_cache_mode = auto`.execute(connection);
    try {
      return await migrateOn(connection, dialect);
    } finally {
      await sql`reset plan_cache_mode`.execute(connection);
    }
  });
}

/** Migrations run in name order, so the newest one applied means every one before it was. */
async function isUpToDate(db: Kysely<any>, dialect: Dialect): Promise<boolean> {
  const newest = Object.keys(migrations(dialect)).sort().at(-1);
  const table =
    dialect === 'postgres'
      ? sql<{ present: boolean }>`select to_regclass(quote_ident(current_schema()) || '.ordercast_migrations') is not null as present`
      : sql<{ present: boolean }>`select count(*) > 0 as present from sqlite_master where type = 'table' and name = 'ordercast_migrations'`;
  if (!(await table.execute(db)).rows[0]?.present) return false;
  const applied = await sql`select 1 from ordercast_migrations where name = ${newest}`.execute(db);
  return applied.rows.length > 0;
}

async function migrateOn(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema; on PostgreSQL, pin them to
  // ours, or another schema's tables (a second Ordercast in one database) would be taken for them.
  const migrationTableSchema =
    dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({
    db,
    provider: new CodeMigrationProvider(dialect),
    migrationTableName: 'ordercast_migrations',
    migrationLockTableName: 'ordercast_migrations_lock',
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
