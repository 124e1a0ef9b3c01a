import type { Logger } from '../../lib/logging.js';
import type { SessionSubscriptions, SocketIoSessionRows } from '../../services/socketio-session-rows.js';

/** A session's row as it is to be written now, or undefined when there is nothing left to write (the connection closed). */
export type SessionRowSnapshot = { sessionId: string; projectId: string; connectedAt: number } & SessionSubscriptions;

/**
 * Keeps one recoverable Socket.IO session's row in step with its subscriptions: one
 * write at a time, a change made meanwhile written after it. Until a write lands the
 * row is not current, and the session's events end with sealed checkpoints; if it
 * fails they go on doing so (live delivery is not affected) and the next renewal
 * retries. A later connection of the same session that wrote the row takes it over.
 */
export class SessionRowWriter {
  /** The row holds the subscriptions as they are now. */
  current = false;
  private writing = false;
  private stale = false;
  private failed = false;
  private lost = false;

  constructor(
    private readonly rows: SocketIoSessionRows,
    private readonly lifetimeMs: number,
    private readonly logger: Logger,
    private readonly snapshot: () => SessionRowSnapshot | undefined,
  ) {}

  write(): void {
    if (this.lost) return;
    this.current = false;
    if (this.writing) {
      this.stale = true;
      return;
    }
    const row = this.snapshot();
    if (!row) return;
    this.writing = true;
    this.failed = false;
    this.rows.save({ ...row, expiresAt: Date.now() + this.lifetimeMs }).then(
      (written) => {
        this.writing = false;
        if (!written) this.lost = true;
        else if (this.stale) {
          this.stale = false;
          this.write();
        } else this.current = true;
      },
      (error) => {
        this.writing = false;
        this.stale = false;
        this.failed = true;
        this.logger.warn({ err: error }, 'socket.io: saving the session for recovery failed; its events carry sealed checkpoints meanwhile');
      },
    );
  }

  /** Whether the row's expiry is to be pushed back (it is current); retries a failed write. */
  renewable(): boolean {
    if (this.failed) this.write();
    return this.current;
  }
}
