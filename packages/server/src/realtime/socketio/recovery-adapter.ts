import { randomBytes } from 'node:crypto';
import { Adapter, type Session } from 'socket.io-adapter';
import { isAfter } from '../../domain/order.js';
import type { SocketIoSessionRows } from '../../services/socketio-session-rows.js';
import type { TenantPositions } from '../../services/tenant-position.js';
import type { Checkpoint, RecoveryTokens, SessionIdentity } from './recovery-token.js';

/** What a recovered socket carries in `socket.data` until the gateway has checked its credential. */
export interface RecoveredState {
  identity: SessionIdentity;
  /** What the client had received: from its sealed checkpoint, or from its session's row and the log position it holds. */
  checkpoint: Checkpoint;
}

export const RECOVERED_KEY = 'recovered';

/**
 * A socket.io adapter that keeps no sessions and no packets in memory:
 * `restoreSession` opens the sealed pid and reads what the client had received,
 * either from the sealed checkpoint it sent back or, when it sent a log position
 * (the offset most events end with), from its session's row: for each order it
 * follows, the newest version at that position (never below the version the
 * subscription started from), and the project feed from that position. Missed
 * packets are not sent from here (socket.io would send them before the middleware
 * has checked the credential); the session reads them from the log once the
 * connection is authenticated. A pid or offset that does not open, a checkpoint of
 * another session, a session older than the window or without a row, restore
 * nothing: the client gets a new session, with `recovered === false`. So does a
 * database that cannot be read (socket.io treats a failed restore as none).
 */
export function recoveryAdapter(
  tokens: RecoveryTokens,
  positions: TenantPositions,
  rows: SocketIoSessionRows | undefined,
  windowMs: number,
  checkpointEveryMs: number,
): typeof Adapter {
  async function fromPosition(identity: SessionIdentity, offset: string): Promise<Checkpoint | undefined> {
    // Sealed for the session's project: another project's offset, or one from before positions were sealed, opens to nothing.
    const position = positions.open(identity.projectId, offset);
    if (!position || !rows) return undefined;
    const row = await rows.read(identity.session);
    if (!row || row.projectId !== identity.projectId || row.expiresAt < Date.now()) return undefined;
    const versions = await rows.versionsAt(row.orders, position);
    return {
      session: identity.session,
      at: Date.now(),
      orders: row.orders.map(([orderId, from]) => [orderId, Math.max(from, versions.get(orderId) ?? 0)]),
      ...(row.feed ? { feed: isAfter(row.feed, position) ? row.feed : position } : {}),
    };
  }

  function fromSealed(identity: SessionIdentity, offset: string): Checkpoint | undefined {
    const checkpoint = tokens.openCheckpoint(offset);
    const age = checkpoint ? Date.now() - checkpoint.at : Infinity;
    // A connected session renews its checkpoint every `checkpointEveryMs`: its last one may be that old at the drop.
    if (!checkpoint || checkpoint.session !== identity.session || age < -60_000 || age > windowMs + checkpointEveryMs) return undefined;
    return checkpoint;
  }

  return class RecoveryAdapter extends Adapter {
    override persistSession(): void {
      // The client holds its offset, the database what its session follows: nothing to keep here.
    }

    override async restoreSession(pid: string, offset: string): Promise<Session> {
      const identity = tokens.openPid(pid);
      const checkpoint = identity ? ((await fromPosition(identity, offset)) ?? fromSealed(identity, offset)) : undefined;
      if (!identity || !checkpoint) return null as unknown as Session;
      const state: RecoveredState = { identity, checkpoint };
      return {
        // A fresh public id: the old socket may not have been reaped yet on this node.
        sid: randomBytes(15).toString('base64url'),
        pid,
        rooms: [],
        data: { [RECOVERED_KEY]: state },
        missedPackets: [],
      };
    }
  };
}
