import type { LogPosition } from '../domain/order.js';
import type { Store } from '../store/database.js';
import {
  deleteExpiredSessions,
  orderVersionsAt,
  readSession,
  renewSessions,
  saveSession,
  type SessionRow,
  type SessionSubscriptions,
} from '../store/repositories/socketio-sessions.js';

export type { SessionRow, SessionSubscriptions };

const RENEW_CHUNK = 500;

/**
 * The server-side half of Socket.IO connection state recovery: what each session
 * follows, so that the offset a client holds can be a bare log position, the same for
 * every socket that receives an event (realtime/socketio/recovery-adapter.ts).
 */
export class SocketIoSessionRows {
  constructor(private readonly store: Store) {}

  save(row: { sessionId: string; projectId: string; connectedAt: number; expiresAt: number } & SessionSubscriptions): Promise<boolean> {
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
