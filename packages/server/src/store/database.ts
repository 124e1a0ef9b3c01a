import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { redactUrl } from '../lib/redact-url.js';
import type { Database } from './schema.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { lockForServing, type ServerLockMode } from './sqlite-server-lock.js';
import { ImmediateSqliteDialect } from './sqlite-immediate-dialect.js';
import { withStatementCache } from './sqlite-statement-cache.js';
import { findOrderRow, sqliteOrderRowReader, type OrderRow } from './repositories/orders.js';
import { postgresLogReading, sqliteLogReading, type LogReading } from './log-reading.js';
import type { OrderLog } from './order-log.js';
import { PostgresGroupCommitLog } from './postgres-group-commit.js';
import { PostgresOrderLog } from './postgres-order-log.js';
import { SqliteOrderLog } from './sqlite-order-log.js';

import type { Dialect } from './dialect.js';

export type { Dialect };

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, for logs: a file path or the URL without its password. */
  location: string;
  /** The one write path of orders: decide, then append (see store/order-log.ts). */
  orderLog: OrderLog;
  /** The log in commit order, for followers (see store/log-reading.ts). */
  log: LogReading;
  /**
   * One order row by id, committed state only. On SQLite it runs on a read-only
   * connection of its own: in WAL mode that reads the last commit without queueing
   * behind a write batch on the writer's connection.
   */
  readOrderRow(projectId: string, id: string): Promise<OrderRow | undefined>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise an SQLite file under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** SQLite `synchronous`: NORMAL survives a process crash; FULL also a power loss. */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  /** PostgreSQL: connections for queries (default 10); the LISTEN connection is apart from them. */
  poolSize?: number;
  /** PostgreSQL: how long to wait for a new connection before the request fails with 503. */
  connectTimeoutMs?: number;
  /** PostgreSQL: statements running longer are cancelled by the server (`statement_timeout`). */
  statementTimeoutMs?: number;
  /** PostgreSQL: a connection died (server restart, failover, terminated backend); it is replaced on next use. */
  onConnectionError?: (error: Error) => void;
  /** PostgreSQL: run the write path's statements by name, prepared once per connection (default); off behind a transaction pooler that cannot keep them. */
  preparedStatements?: boolean;
  /** SQLite: checkpoint the WAL on a timer instead of inside commits (for servers). */
  checkpointInBackground?: boolean;
  /** SQLite, servers only: how this server holds the file against other servers (see sqlite-server-lock.ts); one-off commands take no lock. */
  serverLock?: ServerLockMode;
  onBackgroundError?: (message: string) => void;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

const INT8_OID = 20;
const NUMERIC_OID = 1700;

function openReadConnection(file: string): SqliteDatabase.Database {
  const connection = new SqliteDatabase(file);
  connection.pragma('busy_timeout = 5000');
  connection.pragma('query_only = ON');
  return connection;
}

/**
 * The write path's named statements take their rows as JSON, so a plan made for one
 * batch's values is no better than the generic one, and re-planning them cost about a
 * quarter of a batch's time (bench/README.md): connections ask for generic plans, in the
 * startup options beside any the URL has. Not behind a transaction pooler (the
 * statements are unnamed there, and PgBouncer refuses startup options).
 */
function withGenericPlans(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', [url.searchParams.get('options'), '-c plan_cache_mode=force_generic_plan'].filter(Boolean).join(' '));
  return url.toString();
}

export function openStore(options: StoreOptions): Store {
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    const pool = new pg.Pool({
      connectionString: (options.preparedStatements ?? true) ? withGenericPlans(options.databaseUrl) : options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      // bigserial columns come back as numbers; offsets stay far below 2^53.
      types: {
        getTypeParser: ((oid: number, format?: any) =>
          oid === INT8_OID ? (v: string) => Number(v) : oid === NUMERIC_OID ? (v: string) => v : pg.types.getTypeParser(oid, format)) as any,
      },
    });
    // A connection that dies must never crash the process: idle ones are reported by the pool,
    // checked-out ones by the client itself (pg-pool removes its own listener on checkout, and an
    // 'error' event without a listener exits). The statement running on it fails on its own, and
    // the pool drops the dead client when it is released.
    const reportLost = (error: Error) => options.onConnectionError?.(error);
    pool.on('error', reportLost);
    pool.on('connect', (client) => client.on('error', reportLost));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: 'postgres',
      location: redactUrl(options.databaseUrl),
      orderLog: new PostgresGroupCommitLog(pool, new PostgresOrderLog(pool, options.preparedStatements ?? true), options.preparedStatements ?? true),
      log: postgresLogReading(db),
      readOrderRow: (projectId, id) => findOrderRow(db, 'postgres', projectId, id),
      close: () => db.destroy(),
    };
  }
  if (options.databaseUrl && !options.databaseUrl.startsWith('sqlite:')) {
    throw new Error(`Unsupported database URL "${redactUrl(options.databaseUrl)}": use postgres://… or sqlite:/path/to/file.db`);
  }
  const file = options.databaseUrl ? options.databaseUrl.slice('sqlite:'.length) : path.join(options.dataDir, 'ordercast.db');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const serverLock = options.serverLock && file !== ':memory:' ? lockForServing(path.resolve(file), options.serverLock) : undefined;
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.sqliteSynchronous ?? 'NORMAL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const checkpointer = options.checkpointInBackground && file !== ':memory:' ? startCheckpointer(sqlite, 50, options.onBackgroundError) : undefined;
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
  // A second connection to ':memory:' would be another, empty database.
  const reader = file === ':memory:' ? undefined : openReadConnection(file);
  const readRow = reader ? sqliteOrderRowReader(reader) : undefined;
  return {
    db,
    dialect: 'sqlite',
    location: path.resolve(file),
    orderLog: new SqliteOrderLog(db, sqlite),
    log: sqliteLogReading(reader ?? sqlite),
    readOrderRow: readRow ? async (projectId, id) => readRow(projectId, id) : (projectId, id) => findOrderRow(db, 'sqlite', projectId, id),
    async close() {
      checkpointer?.stop();
      reader?.close();
      await db.destroy();
      serverLock?.release();
    },
  };
}
