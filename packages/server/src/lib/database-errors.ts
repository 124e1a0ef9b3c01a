// What the database drivers' errors mean for a caller: retry the transaction, answer
// 503, or report a conflict. Codes of better-sqlite3 and node-postgres (PostgreSQL's SQLSTATE).

/** What the SQLite and PostgreSQL drivers put on their errors. */
interface DriverError {
  code?: string;
  constraint?: string;
  message?: string;
}

/** PostgreSQL serialization failure or deadlock, or SQLite busy: safe to run the transaction again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as DriverError)?.code;
  return code === '40001' || code === '40P01' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

/** Socket-level failures of the connection to the database server. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/**
 * PostgreSQL's answers that mean "this server or this connection is going away or cannot take you":
 * class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now),
 * 53300 (too many connections).
 */
const SERVER_GONE_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres reports these without a code. */
const CLIENT_GONE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Connection terminated due to connection timeout',
];

/**
 * The database could not be reached, or the connection died under the statement.
 * Nothing about the request was wrong: the answer is 503 and the client may retry.
 */
export function isConnectionError(error: unknown): boolean {
  const e = error as DriverError | undefined;
  if (!e || typeof e !== 'object') return false;
  const code = e.code ?? '';
  if (NETWORK_ERROR_CODES.has(code) || SERVER_GONE_CODES.has(code) || code.startsWith('08')) return true;
  const message = e.message ?? '';
  if (CLIENT_GONE_MESSAGES.some((m) => message.startsWith(m))) return true;
  // pg-pool's connect errors can arrive wrapped (AggregateError for several addresses).
  const nested = (error as { errors?: unknown[]; cause?: unknown }).errors ?? [];
  return nested.some(isConnectionError) || ((error as { cause?: unknown }).cause !== undefined && isConnectionError((error as { cause?: unknown }).cause));
}

/** PostgreSQL cancelled a statement that ran past `statement_timeout`: the database is overloaded or blocked. */
export function isStatementTimeout(error: unknown): boolean {
  return (error as DriverError)?.code === '57014';
}

/**
 * SQLite and PostgreSQL saying the storage itself cannot take the write or the read right now:
 * disk full, I/O error, a read-only file, a database file that cannot be opened, a lock held
 * past the busy timeout, or a store already closed (shutting down).
 */
function isStorageUnavailable(error: unknown): boolean {
  const e = error as DriverError | undefined;
  const code = e?.code ?? '';
  if (code === '53100' || code === '53200') return true; // PostgreSQL disk_full, out_of_memory
  if (/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM)/.test(code)) return true;
  return error instanceof TypeError && /database connection is not open/.test(e?.message ?? '');
}

/** The database cannot serve this right now, through no fault of the request: answer 503, the client retries. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return isConnectionError(error) || isStatementTimeout(error) || isStorageUnavailable(error);
}

export function isUniqueViolation(error: unknown, columnHint?: string): boolean {
  const e = error as DriverError;
  const unique = e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (!unique || !columnHint) return unique;
  return `${e.constraint ?? ''} ${e.message ?? ''}`.includes(columnHint);
}
