import type { CreateTableBuilder, Kysely, Migration } from 'kysely';

/**
 * The migrations of the tenants-apart rounds (the platform, observability, the buyer's view,
 * order timing), after the core ones in migrations.ts, which applies them in name order.
 * `seqColumn` starts a table with its dialect's auto-incrementing `seq` key.
 */
export function tenantMigrations(seqColumn: (db: Kysely<any>, table: string) => CreateTableBuilder<string, 'seq'>): Record<string, Migration> {
  return {
    '0009_platform_access': {
      async up(db: Kysely<any>) {
        // A disabled project's credentials stop and its webhooks pause; enabling it again restores both.
        await db.schema.alterTable('projects').addColumn('disabled_at', 'text').execute();
        // A restricted key's permissions (JSON array; null: everything its kind allows), and when a key was revoked.
        await db.schema.alterTable('api_keys').addColumn('permissions', 'text').execute();
        await db.schema.alterTable('api_keys').addColumn('revoked_at', 'text').execute();
        // Admin keys (ak_…) provision projects and their keys over the admin API; stored as hashes like project keys.
        await db.schema
          .createTable('admin_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('key_prefix', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text')
          .execute();
      },
    },

    '0010_dashboard_sessions_audit': {
      async up(db: Kysely<any>) {
        // Which credential caused each order event (domain/actor.ts as JSON); null for events written before.
        await db.schema.alterTable('order_events').addColumn('actor', 'text').execute();
        // A dashboard sign-in: the one-time link (only its hash), then the session it started (only the cookie's hash).
        await db.schema
          .createTable('dashboard_sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('link_hash', 'text', (c) => c.notNull().unique())
          .addColumn('link_expires_at', 'text', (c) => c.notNull())
          .addColumn('session_seconds', 'integer', (c) => c.notNull())
          .addColumn('session_hash', 'text', (c) => c.unique())
          .addColumn('started_at', 'text')
          .addColumn('started_address', 'text')
          .addColumn('expires_at', 'text')
          .addColumn('ended_at', 'text')
          .addColumn('end_reason', 'text')
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('dashboard_sessions_project').on('dashboard_sessions').columns(['project_id', 'created_at']).execute();
        await seqColumn(db, 'audit_log')
          .addColumn('id', 'text', (c) => c.notNull().unique())
          .addColumn('project_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('address', 'text')
          .addColumn('target_type', 'text', (c) => c.notNull())
          .addColumn('target_id', 'text', (c) => c.notNull())
          .addColumn('changes', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_log_project_seq').on('audit_log').columns(['project_id', 'seq']).execute();
      },
    },

    '0011_project_quotas': {
      async up(db: Kysely<any>) {
        // A project's own quotas; a null column (or no row) follows the server's default (ORDERCAST_QUOTA_*).
        await db.schema
          .createTable('project_quotas')
          .addColumn('project_id', 'text', (c) => c.primaryKey().references('projects.id'))
          .addColumn('writes_per_second', 'integer')
          .addColumn('open_connections', 'integer')
          .addColumn('webhook_endpoints', 'integer')
          .addColumn('metadata_bytes', 'integer')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
    },

    '0012_event_trace_context': {
      async up(db: Kysely<any>) {
        // The W3C traceparent of the append that wrote the event (null when tracing was off):
        // deliveries made later, on any node, link back to it.
        await db.schema.alterTable('order_events').addColumn('trace_context', 'text').execute();
      },
    },

    '0013_order_links_branding': {
      async up(db: Kysely<any>) {
        // A buyer's link to one order (`/o/{token}`): only the token's hash is kept, so links
        // outlive restarts and encryption-key rotation, and every node resolves them alike.
        await db.schema
          .createTable('order_links')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
          .addColumn('order_id', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema.createIndex('order_links_order').on('order_links').columns(['project_id', 'order_id']).execute();
        // How the buyer's page looks and which metadata keys it may show; no row: the defaults.
        await db.schema
          .createTable('project_branding')
          .addColumn('project_id', 'text', (c) => c.primaryKey().references('projects.id'))
          .addColumn('display_name', 'text')
          .addColumn('logo_url', 'text')
          .addColumn('accent_color', 'text')
          .addColumn('support_url', 'text')
          .addColumn('support_email', 'text')
          .addColumn('public_metadata_keys', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
    },

    '0014_order_timing': {
      async up(db: Kysely<any>) {
        // When each order should leave its status, when it should reach a successful end, and
        // whether an `order.stuck` event said it is late (docs/timing.md).
        await db.schema.alterTable('orders').addColumn('expected_by', 'text').execute();
        await db.schema.alterTable('orders').addColumn('eta', 'text').execute();
        await db.schema
          .alterTable('orders')
          .addColumn('stuck', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        // The due index: expected_by while the order may still become stuck, else null. The
        // sweeper reads it in order up to now, so its work is the orders coming due, not those open.
        await db.schema.alterTable('orders').addColumn('due_at', 'text').execute();
        await db.schema.createIndex('orders_due').on('orders').columns(['due_at']).execute();
        // "stuck orders of project P" (the list filter) and "stuck orders per project and status" (the gauge).
        await db.schema.createIndex('orders_stuck').on('orders').columns(['stuck', 'project_id', 'status', 'seq']).execute();
      },
    },
  };
}
