import type { Logger } from '../lib/logging.js';
import { SocketIoSessionRows, type SessionActor, type SessionSubscriptions } from './socketio-session-rows.js';

type Settle = (written: boolean) => void;

/**
 * Keeps one recoverable Socket.IO session's row in step with its subscriptions: one
 * write at a time, changes made meanwhile written together after it. `write` resolves
 * once the row holds the subscriptions as they were at the call (true), or when that
 * could not be done (false: the database refused, or a later connection of the same
 * session took the row over). Until then the row is not current, and the session's
 * events end with no position (nothing to recover from); after a failure they go on
 * that way (live delivery is not affected) and the next renewal retries.
 */
export class SessionRowWriter {
  /** The row's key: the hash of the session's pid. */
  readonly sessionId: string;
  /** The row holds the subscriptions as they are now. */
  current = false;
  /** When this connection took the row (a later connection of the same session takes it over). */
  private readonly connectedAt = Date.now();
  private writing = false;
  private failed = false;
  private lost = false;
  /** Callers waiting for a write that has not started yet. */
  private waiting: Settle[] = [];

  constructor(
    private readonly rows: SocketIoSessionRows,
    pid: string,
    private readonly actor: SessionActor,
    private readonly lifetimeMs: number,
    private readonly logger: Logger,
    /** What the session follows now, or undefined when there is nothing left to write (the connection closed). */
    private readonly snapshot: () => SessionSubscriptions | undefined,
  ) {
    this.sessionId = SocketIoSessionRows.idOf(pid);
  }

  write(): Promise<boolean> {
    if (this.lost) return Promise.resolve(false);
    this.current = false;
    const done = new Promise<boolean>((resolve) => this.waiting.push(resolve));
    if (!this.writing) this.flush();
    return done;
  }

  /** Whether the row's expiry is to be pushed back (it is current); retries a failed write. */
  renewable(): boolean {
    if (this.failed && !this.writing) void this.write();
    return this.current;
  }

  private flush(): void {
    const settling = this.waiting;
    this.waiting = [];
    const subscriptions = this.snapshot();
    if (!subscriptions) return settle(settling, false);
    this.writing = true;
    this.failed = false;
    const row = { sessionId: this.sessionId, actor: this.actor, connectedAt: this.connectedAt, expiresAt: Date.now() + this.lifetimeMs };
    this.rows.save({ ...row, ...subscriptions }).then(
      (written) => {
        this.writing = false;
        if (!written) {
          this.lost = true;
          settle([...settling, ...this.waiting.splice(0)], false);
          return;
        }
        if (this.waiting.length > 0) this.flush();
        else this.current = true;
        settle(settling, true);
      },
      (error) => {
        this.writing = false;
        this.failed = true;
        this.logger.warn({ err: error }, 'socket.io: saving the session for recovery failed; its events carry no recovery offset meanwhile');
        settle(settling, false);
        if (this.waiting.length > 0) this.flush();
      },
    );
  }
}

function settle(callers: Settle[], written: boolean): void {
  for (const resolve of callers) resolve(written);
}
