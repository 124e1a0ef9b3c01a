import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';

/**
 * Socket.IO connection state recovery without server memory. socket.io-client
 * sends back, on reconnect, the session id (`pid`) it was given and the last
 * string that ended an event it received (`offset`). Both are ours to choose, so
 * both are sealed here (AES-256-GCM: secret and authenticated):
 * - the pid names the session and whom it acts for; it never changes, because the
 *   client counts a reconnect as recovered only when the server answers the same pid;
 * - each checkpoint (the offset) holds what the client has received: the version of
 *   every order it follows and how far its project feed went, and when it was made.
 * A restarted node, or any other node, can then resume the session from the log.
 *
 * Most events end with a third kind of offset instead, the same for every socket that
 * receives the event: its log position, sealed for the project (services/tenant-position.ts).
 * It means "every event of what this session follows, up to here"; what the session
 * follows is kept in the database (services/socketio-session-rows.ts). A sealed
 * checkpoint is sent only when that would not be exact (socketio-session.ts, `send`).
 */

export interface SessionIdentity {
  /** Random per session: ties checkpoints to their pid. */
  session: string;
  projectId: string;
  kind: 'secret' | 'user';
  userExternalId?: string;
}

export interface Checkpoint {
  session: string;
  /** When it was made (ms since the epoch): the recovery window counts from the newest one the client holds. */
  at: number;
  /** [orderId, last version the client received] for each order it follows. */
  orders: Array<[string, number]>;
  /** The project feed's last delivered log position, when the connection follows the whole project. */
  feed?: { txId: number; seq: number };
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PID_LABEL = Buffer.from('ordercast socket.io pid v1');
const CHECKPOINT_LABEL = Buffer.from('ordercast socket.io checkpoint v1');

/**
 * Random nonces, drawn from the system in blocks: a checkpoint is sealed for every event
 * a socket is sent, and one call for each would cost more than the encryption. Every
 * nonce is still random (the key is shared by all nodes, so counters could collide).
 */
const noncePool = Buffer.alloc(NONCE_BYTES * 512);
let nonceAt = noncePool.length;

function nextNonce(): Buffer {
  if (nonceAt === noncePool.length) {
    randomFillSync(noncePool);
    nonceAt = 0;
  }
  const nonce = Buffer.from(noncePool.subarray(nonceAt, nonceAt + NONCE_BYTES));
  nonceAt += NONCE_BYTES;
  return nonce;
}

export class RecoveryTokens {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the recovery key must be 32 bytes');
  }

  static newSessionId(): string {
    return randomBytes(12).toString('base64url');
  }

  pid(identity: SessionIdentity): string {
    return this.seal(PID_LABEL, [identity.session, identity.projectId, identity.kind, identity.userExternalId ?? null]);
  }

  openPid(token: string): SessionIdentity | undefined {
    const value = this.open(PID_LABEL, token);
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [session, projectId, kind, userExternalId] = value as unknown[];
    if (typeof session !== 'string' || typeof projectId !== 'string' || (kind !== 'secret' && kind !== 'user')) return undefined;
    if (kind === 'user' && typeof userExternalId !== 'string') return undefined;
    return { session, projectId, kind, ...(kind === 'user' ? { userExternalId: userExternalId as string } : {}) };
  }

  checkpoint(checkpoint: Checkpoint): string {
    return this.seal(CHECKPOINT_LABEL, [
      checkpoint.session,
      checkpoint.at,
      checkpoint.orders,
      checkpoint.feed ? [checkpoint.feed.txId, checkpoint.feed.seq] : null,
    ]);
  }

  openCheckpoint(token: string): Checkpoint | undefined {
    const value = this.open(CHECKPOINT_LABEL, token);
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [session, at, orders, feed] = value as unknown[];
    if (typeof session !== 'string' || typeof at !== 'number' || !Array.isArray(orders)) return undefined;
    const isWhole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    if (!orders.every((o) => Array.isArray(o) && o.length === 2 && typeof o[0] === 'string' && isWhole(o[1]))) return undefined;
    if (feed !== null && !(Array.isArray(feed) && feed.length === 2 && isWhole(feed[0]) && isWhole(feed[1]))) return undefined;
    return { session, at, orders: orders as Array<[string, number]>, ...(feed ? { feed: { txId: (feed as number[])[0]!, seq: (feed as number[])[1]! } } : {}) };
  }

  private seal(label: Buffer, value: unknown): string {
    const nonce = nextNonce();
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(label);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The sealed value, or undefined for anything this deployment did not seal for this purpose. */
  private open(label: Buffer, token: string): unknown {
    if (typeof token !== 'string' || token.length > 64 * 1024) return undefined;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < NONCE_BYTES + TAG_BYTES + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE_BYTES));
      decipher.setAAD(label);
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      return JSON.parse(plain.toString('utf8'));
    } catch {
      return undefined;
    }
  }
}
