import { randomBytes } from 'node:crypto';
import { Adapter, type Session } from 'socket.io-adapter';
import type { Checkpoint, RecoveryTokens, SessionIdentity } from './recovery-token.js';

/** What a recovered socket carries in `socket.data` until the gateway has checked its credential. */
export interface RecoveredState {
  identity: SessionIdentity;
  checkpoint: Checkpoint;
}

export const RECOVERED_KEY = 'recovered';

/**
 * A socket.io adapter that keeps no sessions and no packets: `restoreSession`
 * opens the sealed pid and checkpoint the client sent back. Missed packets are
 * not sent from here (socket.io would send them before the middleware has
 * checked the credential); the session reads them from the log once the
 * connection is authenticated. A pid or checkpoint that does not open, that
 * belong to different sessions, or that are older than the window, restore
 * nothing: the client gets a new session, with `recovered === false`.
 */
export function recoveryAdapter(tokens: RecoveryTokens, windowMs: number, checkpointEveryMs: number): typeof Adapter {
  return class RecoveryAdapter extends Adapter {
    override persistSession(): void {
      // The client holds the state, sealed: nothing to keep here.
    }

    override async restoreSession(pid: string, offset: string): Promise<Session> {
      const identity = tokens.openPid(pid);
      const checkpoint = identity ? tokens.openCheckpoint(offset) : undefined;
      const age = checkpoint ? Date.now() - checkpoint.at : Infinity;
      // A connected session renews its checkpoint every `checkpointEveryMs`: its last one may be that old at the drop.
      if (!identity || !checkpoint || checkpoint.session !== identity.session || age < -60_000 || age > windowMs + checkpointEveryMs) {
        return null as unknown as Session;
      }
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
