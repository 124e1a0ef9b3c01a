import { createHash } from 'node:crypto';
import type { LogPosition } from '../domain/order.js';
import type { Store } from '../store/database.js';
import {
  deleteExpiredSessions,
  orderVersionsAt,
  readSession,
  renewSessions,
  saveSession,
  type SessionActor,
  type SessionRow,
  type SessionSubscriptions,
} from '../store/repositories/socketio-sessions.js';

export type { SessionActor, SessionRow, SessionSubscriptions };

const RENEW_CHUNK = 500;

/** A session row as it is written: keyed by the hash of the session's pid, never the pid itself. */
export type SessionRowValues = { sessionId: string; actor: SessionActor; connectedAt: number; expiresAt: number } & SessionSubscriptions;

/**
 * The server-side half of Socket.IO connection state recovery: whom each session acts
 * for and what it follows, so that the offset a client holds can be a bare log position,
 * the same for every socket that receives an event (realtime/socketio/recovery-adapter.ts).
 */
export class SocketIoSessionRows {
  constructor(private readonly store: Store) {}

  /**
   * The row key of a session: the sha256 of its pid, the random secret socket.io gives
   * each session and its client sends back to recover. Reading the table (a backup, a
   * replica) does not hand anyone a pid to recover with.
   */
  static idOf(pid: string): string {
    return createHash('sha256').update(pid).digest('base64url');
  }

  save(row: SessionRowValues): Promise<boolean> {
    return saveSession(this.store.db, row);
  }

  read(sessionId: string): Promise<SessionRow | undefined> {
    return readSession(this.store.db, sessionId);
  }

  async renew(sessionIds: string[], expiresAt: number): Promise<void> {
    for (let i = 0; i < sessionIds.length; i += RENEW_CHUNK) await renewSessions(this.store.db, sessionIds.slice(i, i + RENEW_CHUNK), expiresAt);
  }

  deleteExpired(now: number, limit = 1000): Promise<number> {
    return deleteExpiredSessions(this.store.db, now, limit);
  }

  /** Each order's newest version at or before `position`. */
  versionsAt(orders: Array<[string, number]>, position: LogPosition): Promise<Map<string, number>> {
    return orderVersionsAt(this.store.db, orders, position);
  }
}
