import SqliteDatabase from 'better-sqlite3';

/** `ordercast serve` exits with this code when another server holds the SQLite file. */
export const DATABASE_IN_USE_EXIT_CODE = 3;

export class DatabaseInUseError extends Error {
  readonly code = 'database_in_use';
  readonly exitCode = DATABASE_IN_USE_EXIT_CODE;
}

/** `exclusive`: a server alone on the file. `shared`: a server that shares events with the file's other servers through Redis. */
export type ServerLockMode = 'exclusive' | 'shared';

/**
 * Who may serve an SQLite file. A server without Redis must be alone on it: a second
 * one would hear of the first one's writes only by polling the log, and neither would
 * say so. Servers that share events through Redis may serve one file together (each
 * holds a shared lock), but not beside a server without Redis (which holds an exclusive
 * one). A server that may not start is refused at start, clearly.
 *
 * The lock is a transaction on a file of its own beside the database, held for the
 * server's life: `BEGIN EXCLUSIVE`, or a read transaction for the shared lock. SQLite's
 * file locks belong to the process, so the kernel drops the lock when the process dies,
 * even by SIGKILL: nothing stale is left to clear. The database itself is not locked,
 * so one-off CLI commands keep sharing it with the servers.
 */
export function lockForServing(databaseFile: string, mode: ServerLockMode): { release(): void } {
  const lockFile = `${databaseFile}-server.lock`;
  const connection = new SqliteDatabase(lockFile);
  try {
    connection.pragma('busy_timeout = 0');
    if (mode === 'exclusive') {
      connection.exec('BEGIN EXCLUSIVE');
    } else {
      connection.exec('BEGIN');
      connection.prepare('SELECT count(*) FROM sqlite_master').get();
    }
  } catch (error) {
    connection.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new DatabaseInUseError(
      `Another Ordercast server is already serving the SQLite database ${databaseFile} (it holds ${lockFile}). ` +
        'Servers share one SQLite file only when each of them shares events through Redis (--redis-url); otherwise one server per file: ' +
        'stop the other one, or give this one its own --data-dir. For several nodes use PostgreSQL (docs/operations.md). ' +
        'One-off commands such as `ordercast projects …` can run beside the server.',
      { cause: error },
    );
  }
  return {
    release() {
      if (connection.open) connection.close();
    },
  };
}
