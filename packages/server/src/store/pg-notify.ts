import { createHash } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Sends PostgreSQL notifications through the store's pool (a transaction pooler passes NOTIFY through; only LISTEN needs a direct connection). */
export interface PostgresNotifier {
  /**
   * The channel of this deployment: one per database and schema, so deployments
   * sharing a PostgreSQL server never hear each other, whichever URL each node uses.
   */
  channel(): Promise<string>;
  /** Sends each payload on `channel`, in one round trip. */
  notify(channel: string, payloads: string[]): Promise<void>;
}

export function postgresNotifier(db: Kysely<Database>): PostgresNotifier {
  return {
    async channel() {
      const { rows } = await db.executeQuery<{ name: string }>(CompiledQuery.raw(`select current_database() || '.' || coalesce(current_schema(), '') as name`));
      return `ordercast_${createHash('sha256').update(rows[0]!.name).digest('hex').slice(0, 16)}`;
    },
    async notify(channel, payloads) {
      await db.executeQuery(CompiledQuery.raw('select pg_notify($1, payload) from unnest($2::text[]) as payload', [channel, payloads]));
    },
  };
}
