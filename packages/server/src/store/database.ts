import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { ImmediateSqliteDialect } from './sqlite-immediate-dialect.js';
import { withStatementCache } from './sqlite-statement-cache.js';
import { inTransaction } from './transaction.js';
import { WriteBatcher } from './write-batcher.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, for logs: a file path or the URL without its password. */
  location: string;
  /**
   * Runs the work of one write in a transaction: on SQLite, batched with other
   * writes waiting at the same moment (group commit); on PostgreSQL, alone.
   * Resolves only once the work is committed.
   */
  write<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise an SQLite file under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** SQLite `synchronous`: NORMAL survives a process crash; FULL also a power loss. */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  poolSize?: number;
  /** SQLite: checkpoint the WAL on a timer instead of inside commits (for servers). */
  checkpointInBackground?: boolean;
  onBackgroundError?: (message: string) => void;
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
    return { db, dialect: 'postgres', location: redactUrl(options.databaseUrl), write: (work) => inTransaction(db, work), close: () => db.destroy() };
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
  const checkpointer = options.checkpointInBackground && file !== ':memory:' ? startCheckpointer(sqlite, 250, options.onBackgroundError) : undefined;
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
  const batcher = new WriteBatcher(db);
  return {
    db,
    dialect: 'sqlite',
    location: path.resolve(file),
    write: (work) => batcher.run(work),
    async close() {
      checkpointer?.stop();
      await db.destroy();
    },
  };
}
