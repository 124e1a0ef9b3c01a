import type BetterSqlite3 from 'better-sqlite3';

/**
 * Takes SQLite's WAL checkpoints out of the commit path. Left to itself, SQLite
 * checkpoints inside whichever commit crosses 1,000 WAL pages, with fsyncs: that
 * made commits much dearer (figures in bench/README.md). Instead, a timer checkpoints on the serving connection: timers
 * run between write batches, so the checkpoint finds no write under way, copies
 * each hot page once per round, completes, and the WAL restarts from its
 * beginning. (A second connection in a worker thread cannot do this: under a
 * steady stream of writes its checkpoints never complete and the WAL only grows.)
 *
 * A checkpoint blocks the event loop while it copies and syncs, for a time that
 * grows with the pages written since the last one, and every WebSocket message due
 * meanwhile waits it out: frequent rounds keep each pause short. Rounds with nothing
 * written (total_changes() unchanged) are skipped, so an idle server does no work.
 */
export interface Checkpointer {
  stop(): void;
}

export function startCheckpointer(sqlite: BetterSqlite3.Database, intervalMs = 50, onError: (message: string) => void = () => {}): Checkpointer {
  sqlite.pragma('wal_autocheckpoint = 0');
  // After a restart, shrink a WAL file that grew during a burst.
  sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const changes = sqlite.prepare('select total_changes() as n').pluck();
  let checkpointedAt = -1;
  const timer = setInterval(() => {
    try {
      const now = changes.get() as number;
      if (now === checkpointedAt) return;
      sqlite.pragma('wal_checkpoint(PASSIVE)');
      checkpointedAt = now;
    } catch (error) {
      onError((error as Error).message);
    }
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sqlite.pragma('wal_autocheckpoint = 1000');
    },
  };
}
