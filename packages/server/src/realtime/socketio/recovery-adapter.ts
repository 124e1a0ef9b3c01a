import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io';
import { Adapter, type BroadcastOptions, type Session } from 'socket.io-adapter';
import { isAfter, type LogPosition } from '../../domain/order.js';
import { SocketIoSessionRows, type SessionActor } from '../../services/socketio-session-rows.js';
import type { TenantPositions } from '../../services/tenant-position.js';

/** What a recovered socket carries in `socket.data` until the gateway has checked its credential. */
export interface RecoveredState {
  /** Whom the session acts for: the reconnect's credential must act for the same. */
  actor: SessionActor;
  /** [orderId, last version the client had] for each order the session follows. */
  orders: Array<[string, number]>;
  /** Where the project feed resumes, when the session follows it. */
  feed?: LogPosition;
}

export const RECOVERED_KEY = 'recovered';

/**
 * The socket.io adapter of the /ws namespace: socket.io's own in-memory one (rooms,
 * broadcast: live-rooms.ts), with every packet it writes passing the receiving
 * socket's buffer cap (`admits`), and, with recovery on, connection state recovery
 * served from the database rather than memory.
 *
 * socket.io-client sends back, on reconnect, its session id (`pid`, random, made by
 * socket.io) and the last string that ended an event it received (`offset`): here always
 * a log position sealed for the session's project (services/tenant-position.ts). The
 * session's row (keyed by the pid's hash) says whom it acts for and what it follows;
 * with the position it gives, for each order, the newest version at that position
 * (never below the version the subscription started from), and the project feed from
 * that position. So any node, and the same one after a crash, can restore it.
 *
 * Nothing is kept per session or per packet in memory (`persistSession` does nothing:
 * the row is written as the subscriptions change, so a crash loses nothing), and no
 * missed packet is sent from here (socket.io would send them before the middleware has
 * checked the credential): the session reads them from the log once the connection is
 * authenticated. A pid without a row, a row past its expiry, an offset that does not
 * open for the row's project (altered, another project's, empty, from before an
 * upgrade) restore nothing: the client gets a new session, with `recovered === false`.
 * So does a database that cannot be read (socket.io treats a failed restore as none).
 */
export function recoveryAdapter(admits: (socket: Socket) => boolean, recovery?: { positions: TenantPositions; rows: SocketIoSessionRows }): typeof Adapter {
  class RecoveryAdapter extends Adapter {
    override persistSession(): void {
      // The row is already written (on every subscribe and unsubscribe): nothing to keep here.
    }

    override async restoreSession(pid: string, offset: string): Promise<Session> {
      if (!recovery) return null as unknown as Session;
      const { positions, rows } = recovery;
      const row = pid.length <= MAX_PID_LENGTH ? await rows.read(SocketIoSessionRows.idOf(pid)) : undefined;
      const position = row && row.expiresAt >= Date.now() ? positions.open(row.actor.projectId, offset) : undefined;
      if (!row || !position) return null as unknown as Session;
      const versions = await rows.versionsAt(row.orders, position);
      const state: RecoveredState = {
        actor: row.actor,
        orders: row.orders.map(([orderId, from]) => [orderId, Math.max(from, versions.get(orderId) ?? 0)]),
        ...(row.feed ? { feed: isAfter(row.feed, position) ? row.feed : position } : {}),
      };
      return {
        // A fresh public id: the old socket may not have been reaped yet on this node.
        sid: randomBytes(15).toString('base64url'),
        pid,
        rooms: [],
        data: { [RECOVERED_KEY]: state },
        missedPackets: [],
      };
    }
  }
  // The adapter's own walk over the sockets a packet goes to (private in its typings): every packet,
  // broadcast to a room or emitted to one socket, passes the socket's buffer cap (SocketIoSession.admits).
  const walk = (Adapter.prototype as unknown as { apply: Apply }).apply;
  (RecoveryAdapter.prototype as unknown as { apply: Apply }).apply = function (this: Adapter, opts, callback) {
    walk.call(this, opts, (socket) => {
      if (admits(socket)) callback(socket);
    });
  };
  return RecoveryAdapter;
}

type Apply = (opts: BroadcastOptions, callback: (socket: Socket) => void) => void;

/** socket.io's pids are 20 characters; anything much longer is not one of ours and is not hashed. */
const MAX_PID_LENGTH = 64;
