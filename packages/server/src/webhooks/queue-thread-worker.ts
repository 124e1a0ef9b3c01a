import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { SqliteDatabase as KyselySqlite, SqliteStatement } from 'kysely';
import type { Database } from '../store/schema.js';
import { ImmediateSqliteDialect } from '../store/sqlite-immediate-dialect.js';
import { startCheckpointer } from '../store/sqlite-checkpointer.js';
import { withStatementCache } from '../store/sqlite-statement-cache.js';
import { DeliveryQueue, type AttemptRecord } from './delivery-queue.js';
import type { QueueCall, QueueReply, QueueThreadSettings } from './queue-thread.js';

/**
 * The worker thread of ThreadedDeliveryQueue: a DeliveryQueue on an SQLite connection
 * of its own, answering the main thread's calls one message at a time. Its writes
 * take SQLite's write lock like any other connection's (`BEGIN IMMEDIATE`, waiting
 * out the busy timeout), so they stay serialised with the order writes of the main
 * thread and of other processes.
 */
const settings = workerData as QueueThreadSettings;
const sqlite = new SqliteDatabase(settings.file);
sqlite.pragma(`synchronous = ${settings.synchronous}`);
// No busy handler of SQLite's: it sleeps ever longer between tries (up to 100 ms), and
// against the main thread's stream of short order writes this thread would wait behind
// them for most of a second. Statements that find the write lock taken are tried again
// every fraction of a millisecond instead (retryWhileBusy), up to the same 5 s.
sqlite.pragma('busy_timeout = 0');
sqlite.pragma('foreign_keys = ON');
// This connection checkpoints what it writes, on a timer of its own like the serving
// connection's: that one skips its rounds when its own connection wrote nothing, so the
// pages the outbox dirties are copied (and synced) here, off the thread that sends. A
// checkpoint here blocks no one but this thread, so rounds can be far apart: a page
// rewritten many times in between (the tail of the deliveries, the attempts, the due
// index) is copied once per round.
const CHECKPOINT_INTERVAL_MS = 500;
const checkpointer = startCheckpointer(sqlite, CHECKPOINT_INTERVAL_MS, (message) => console.error(`webhook queue thread: checkpoint failed: ${message}`));
const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: retryWhileBusy(withStatementCache(sqlite)) }) });
const queue = new DeliveryQueue({ db, dialect: 'sqlite' });

async function answer(call: QueueCall): Promise<unknown> {
  switch (call.method) {
    case 'claimDue': {
      const rows = await queue.claimDue(...call.args);
      // The endpoints come with the rows: one message instead of two.
      return { rows, endpoints: rows.length > 0 ? await queue.findEndpoints(rows.map((row) => row.endpoint_id)) : new Map() };
    }
    case 'findEndpoints':
      return queue.findEndpoints(call.args[0]);
    case 'releaseClaims':
      return queue.releaseClaims(...call.args);
    case 'takeSendSlot':
      return queue.takeSendSlot(...call.args);
    case 'postpone':
      return queue.postpone(...call.args);
    case 'giveUpWithoutAttempt':
      return queue.giveUpWithoutAttempt(...call.args);
    case 'recordAttempts': {
      const [workerId, records] = call.args;
      const result = await queue.recordAttempts(workerId, records);
      // Records refused go back by position: the main thread holds the originals.
      const position = new Map<AttemptRecord, number>(records.map((record, i) => [record, i]));
      return { disabled: result.disabled, unrecorded: result.unrecorded.map(({ record, error }) => ({ index: position.get(record)!, error })) };
    }
    case 'close':
      checkpointer.stop();
      await db.destroy();
      return undefined;
  }
}

parentPort!.on('message', (call: QueueCall) => {
  answer(call).then(
    (result) => parentPort!.postMessage({ id: call.id, result } satisfies QueueReply),
    (error: unknown) => parentPort!.postMessage({ id: call.id, error: cloneableError(error) } satisfies QueueReply),
  );
});

/** Errors cross the thread boundary as plain ones (a driver's own error classes do not). */
function cloneableError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack) copy.stack = error.stack;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}

const BUSY_WAIT_MS = 0.25;
const BUSY_TIMEOUT_MS = 5_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs each statement again while SQLite answers SQLITE_BUSY (another connection holds
 * the write lock: `BEGIN IMMEDIATE` is where that happens), pausing this thread briefly
 * between tries. A statement refused with SQLITE_BUSY did nothing, so trying it again
 * is safe.
 */
function retryWhileBusy(database: KyselySqlite): KyselySqlite {
  const retried = <T>(run: () => T): T => {
    const deadline = performance.now() + BUSY_TIMEOUT_MS;
    for (;;) {
      try {
        return run();
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY' || performance.now() > deadline) throw error;
        Atomics.wait(pause, 0, 0, BUSY_WAIT_MS);
      }
    }
  };
  return {
    prepare(sql: string): SqliteStatement {
      const statement = database.prepare(sql);
      return {
        reader: statement.reader,
        all: (parameters) => retried(() => statement.all(parameters)),
        run: (parameters) => retried(() => statement.run(parameters)),
        iterate: (parameters) => statement.iterate(parameters),
      };
    },
    close: () => database.close(),
  };
}
