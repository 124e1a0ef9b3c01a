import { hkdfSync } from 'node:crypto';
import type { Store } from '../store/database.js';
import { readSetting } from '../store/repositories/settings.js';

/**
 * The key that seals real-time session state handed to clients (Socket.IO recovery
 * tokens). It is derived from the deployment-wide secret in ordercast_settings, so
 * every node, and the same node after a restart, opens what another one sealed;
 * the label keeps it apart from every other use of that secret.
 */
export async function loadRealtimeSessionKey(store: Store): Promise<Buffer> {
  const hex = await readSetting(store.db, 'feed_cursor_key');
  if (!hex) throw new Error('the deployment key is missing from ordercast_settings: run `ordercast migrate`');
  return Buffer.from(hkdfSync('sha256', Buffer.from(hex, 'hex'), Buffer.alloc(0), 'ordercast realtime session v1', 32));
}
