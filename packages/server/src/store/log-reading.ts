import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, type Kysely } from 'kysely';
import { LOG_START, type LogPosition, type OrderEvent } from '../domain/order.js';
import { rowToEvent, type EventRow } from './repositories/order-events.js';
import type { Database } from './schema.js';

/**
 * The log in commit order, for followers: whatever they read after a position, no
 * event can later commit before it. That is what lets a follower keep one cursor and
 * never look back.
 */
export interface LogReading {
  /** Events after `position`, oldest first; with `projectId`, only that project's. */
  after(position: LogPosition, limit: number, projectId?: string): Promise<OrderEvent[]>;
  /** The position of the newest event a follower starting now has seen; with `projectId`, that project's newest. */
  head(projectId?: string): Promise<LogPosition>;
}

/**
 * SQLite has one writer, and `seq` is handed out inside its write lock, so seq order is
 * commit order. Reads run on the read-only connection: in WAL mode it sees each commit
 * at once without queueing behind a write batch.
 */
export function sqliteLogReading(connection: BetterSqlite3.Database): LogReading {
  // Prepared on first use: the tables do not exist until migrations have run.
  let statements: Record<'after' | 'afterInProject' | 'head' | 'headOfProject', BetterSqlite3.Statement> | undefined;
  const prepared = () =>
    (statements ??= {
      after: connection.prepare('select * from order_events where seq > ? order by seq limit ?'),
      afterInProject: connection.prepare('select * from order_events where project_id = ? and seq > ? order by seq limit ?'),
      head: connection.prepare('select coalesce(max(seq), 0) from order_events').pluck(),
      headOfProject: connection.prepare('select coalesce(max(seq), 0) from order_events where project_id = ?').pluck(),
    });
  return {
    async after(position, limit, projectId) {
      const s = prepared();
      const rows = (projectId === undefined ? s.after.all(position.seq, limit) : s.afterInProject.all(projectId, position.seq, limit)) as EventRow[];
      return rows.map(rowToEvent);
    },
    async head(projectId) {
      const s = prepared();
      const seq = (projectId === undefined ? s.head.get() : s.headOfProject.get(projectId)) as number;
      return { txId: 0, seq };
    },
  };
}

/**
 * On PostgreSQL, `seq` is taken when an event is inserted, not when its transaction
 * commits: a transaction holding seq 10 can commit after the one holding seq 11, and a
 * reader that had moved past 11 would never see 10. So each event also records its
 * transaction's id, and readers order by (tx_id, seq) and read only events of
 * transactions below the oldest one still in flight (the snapshot's xmin): every
 * transaction under it has finished, and every transaction still to commit has an id at
 * or above it, so it can only land after the reader's position.
 */
export function postgresLogReading(db: Kysely<Database>): LogReading {
  const horizon = 'pg_snapshot_xmin(pg_current_snapshot())::text::bigint';
  const run = async (sql: string, parameters: unknown[]) => (await db.executeQuery<EventRow>(CompiledQuery.raw(sql, parameters))).rows;
  return {
    async after(position, limit, projectId) {
      const rows =
        projectId === undefined
          ? await run(`select * from order_events where (tx_id, seq) > ($1, $2) and tx_id < ${horizon} order by tx_id, seq limit $3`, [
              position.txId,
              position.seq,
              limit,
            ])
          : await run(`select * from order_events where project_id = $4 and (tx_id, seq) > ($1, $2) and tx_id < ${horizon} order by tx_id, seq limit $3`, [
              position.txId,
              position.seq,
              limit,
              projectId,
            ]);
      return rows.map(rowToEvent);
    },
    async head(projectId) {
      const rows =
        projectId === undefined
          ? await run(`select tx_id, seq from order_events where tx_id < ${horizon} order by tx_id desc, seq desc limit 1`, [])
          : await run(`select tx_id, seq from order_events where project_id = $1 and tx_id < ${horizon} order by tx_id desc, seq desc limit 1`, [projectId]);
      const top = rows[0];
      return top ? { txId: Number(top.tx_id), seq: Number(top.seq) } : LOG_START;
    },
  };
}
