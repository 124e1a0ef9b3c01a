import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { LogPosition } from '../domain/order.js';

/**
 * Event-feed cursors are sealed: a log position (transaction id and seq, both counting
 * every project's events) would let a tenant read from the gaps between its own events
 * how much the others write. Each cursor is the position encrypted as one AES block
 * under a key of the project's own, with four zero bytes that show, on the way back in,
 * that it was made for this project and not altered.
 */
export function sealFeedCursor(deploymentKey: Buffer, projectId: string, position: LogPosition): string {
  const block = Buffer.alloc(16);
  block.writeUIntBE(position.txId, 0, 6);
  block.writeUIntBE(position.seq, 6, 6);
  const cipher = createCipheriv('aes-256-ecb', projectKey(deploymentKey, projectId), null).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]).toString('base64url');
}

/** The position a cursor stands for, or undefined when it is not one this project was given. */
export function openFeedCursor(deploymentKey: Buffer, projectId: string, cursor: string): LogPosition | undefined {
  const sealed = Buffer.from(cursor, 'base64url');
  if (sealed.length !== 16 || sealed.toString('base64url') !== cursor) return undefined;
  const decipher = createDecipheriv('aes-256-ecb', projectKey(deploymentKey, projectId), null).setAutoPadding(false);
  const block = Buffer.concat([decipher.update(sealed), decipher.final()]);
  if (block.readUInt32BE(12) !== 0) return undefined;
  return { txId: block.readUIntBE(0, 6), seq: block.readUIntBE(6, 6) };
}

function projectKey(deploymentKey: Buffer, projectId: string): Buffer {
  return createHmac('sha256', deploymentKey).update(projectId).digest();
}
