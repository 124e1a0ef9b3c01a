import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { LogPosition } from '../domain/order.js';
import type { Store } from '../store/database.js';
import { readSetting } from '../store/repositories/settings.js';

/**
 * The one position type a client is handed for a place in the event log: SSE ids of the
 * project stream, Socket.IO recovery offsets, `GET /events` cursors. A log position
 * (transaction id and seq) counts every project's events, so handing it out bare would
 * let any tenant's browser read from the gaps between its own events how much the others
 * write. Each one is sealed instead: the position encrypted as one AES block under a key
 * of the project's own, with four zero bytes that show, on the way back in, that it was
 * made for this project and not altered (a forgery opens with odds of 1 in 2^32, and then
 * only as a position in the project's own log). The same event gives the same token to
 * every client of the project, so a packet that carries it is still encoded once.
 *
 * The other values a client sees are counters of its own stream (an order's version, a
 * user channel's offset) and Centrifuge epochs derived from the channel's name: they
 * move only when that stream moves, so they need no sealing.
 */
export class TenantPositions {
  /** Projects' keys, derived once each; bounded, since any project id may be asked about. */
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly deploymentKey: Buffer) {}

  /** The positions of a deployment: keyed by the secret every node reads from ordercast_settings. */
  static async load(store: Store): Promise<TenantPositions> {
    const hex = await readSetting(store.db, 'feed_cursor_key');
    if (!hex) throw new Error('the deployment key is missing from ordercast_settings: run `ordercast migrate`');
    return new TenantPositions(Buffer.from(hex, 'hex'));
  }

  /** The token for `position` in `projectId`'s log: 22 characters that say nothing without the key. */
  seal(projectId: string, position: LogPosition): string {
    const block = Buffer.alloc(16);
    block.writeUIntBE(position.txId, 0, 6);
    block.writeUIntBE(position.seq, 6, 6);
    const cipher = createCipheriv('aes-256-ecb', this.projectKey(projectId), null).setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]).toString('base64url');
  }

  /** The position a token stands for, or undefined when it is not one this project was given (another project's, altered, cut short, too long, not a string). */
  open(projectId: string, token: unknown): LogPosition | undefined {
    if (typeof token !== 'string' || token.length !== SEALED_LENGTH) return undefined;
    const sealed = Buffer.from(token, 'base64url');
    if (sealed.length !== 16 || sealed.toString('base64url') !== token) return undefined;
    const decipher = createDecipheriv('aes-256-ecb', this.projectKey(projectId), null).setAutoPadding(false);
    const block = Buffer.concat([decipher.update(sealed), decipher.final()]);
    if (block.readUInt32BE(12) !== 0) return undefined;
    return { txId: block.readUIntBE(0, 6), seq: block.readUIntBE(6, 6) };
  }

  private projectKey(projectId: string): Buffer {
    let key = this.keys.get(projectId);
    if (!key) {
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
      key = createHmac('sha256', this.deploymentKey).update(projectId).digest();
      this.keys.set(projectId, key);
    }
    return key;
  }
}

/** A sealed position's length in base64url (16 bytes). */
const SEALED_LENGTH = 22;
const MAX_CACHED_KEYS = 10_000;
