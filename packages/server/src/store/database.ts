import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { withStatementCache } from './sqlite-statement-cache.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, for logs: a file path or the URL without its password. */
  location: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise an SQLite file under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** SQLite `synchronous`: NORMAL survives a process crash; FULL also a power loss. */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  poolSize?: number;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

export function openStore(options: StoreOptions): Store {
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // bigserial columns come back as numbers; offsets stay far below 2^53.
      types: {
        getTypeParser: ((oid: number, format?: any) =>
          oid === INT8_OID ? (v: string) => Number(v) : oid === NUMERIC_OID ? (v: string) => v : pg.types.getTypeParser(oid, format)) as any,
      },
    });
    // A broken idle connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', location: redactUrl(options.databaseUrl), close: () => db.destroy() };
  }
  if (options.databaseUrl && !options.databaseUrl.startsWith('sqlite:')) {
    throw new Error(`Unsupported database URL "${redactUrl(options.databaseUrl)}": use postgres://… or sqlite:/path/to/file.db`);
  }
  const file = options.databaseUrl ? options.databaseUrl.slice('sqlite:'.length) : path.join(options.dataDir, 'ordercast.db');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.sqliteSynchronous ?? 'NORMAL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', location: path.resolve(file), close: () => db.destroy() };
}
