import SqliteDatabase from 'better-sqlite3';

/** `ordercast serve` exits with this code when another server holds the SQLite file. */
export const DATABASE_IN_USE_EXIT_CODE = 3;

export class DatabaseInUseError extends Error {
  readonly code = 'database_in_use';
  readonly exitCode = DATABASE_IN_USE_EXIT_CODE;
}

/**
 * One server per SQLite file. Two would each batch writes on their own connection and
 * hear of the other's writes only by polling, so they would contend for the write lock
 * and serve stale reads: a second server is refused at start instead.
 *
 * The lock is an exclusive transaction on a file of its own beside the database, held
 * for the server's life. SQLite's file locks belong to the process, so the kernel drops
 * the lock when the process dies, even by SIGKILL: nothing stale is left to clear. The
 * database itself is not locked, so one-off CLI commands keep sharing it with the server.
 */
export function lockForOneServer(databaseFile: string): { release(): void } {
  const lockFile = `${databaseFile}-server.lock`;
  const connection = new SqliteDatabase(lockFile);
  try {
    connection.pragma('busy_timeout = 0');
    connection.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    connection.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new DatabaseInUseError(
      `Another Ordercast server is already serving the SQLite database ${databaseFile} (it holds ${lockFile}). ` +
        'One server per SQLite file: stop the other one, or give this one its own --data-dir. Several servers share one PostgreSQL database instead (docs/operations.md). ' +
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
