import { OrdercastError } from '../domain/errors.js';
import type { Store } from '../store/database.js';
import {
  claimAdminKeyBootstrap,
  countAdminKeys,
  findAdminKey,
  insertAdminKey,
  listAdminKeys,
  setAdminKeyExpiry,
  type AdminKeyRecord,
} from '../store/repositories/admin-keys.js';
import { inTransaction, type Executor } from '../store/transaction.js';
import { newId, randomBase62 } from '../lib/ids.js';
import { sha256Hex } from '../lib/hashing.js';
import { assertRollSeconds, rolledKeyExpiry } from './key-roll.js';
import type { ApiKeyStatus } from './project-key-service.js';

export interface AdminKeyView {
  id: string;
  object: 'admin_key';
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  status: Exclude<ApiKeyStatus, 'revoked'>;
}

/** An admin key just issued: shown this once. */
export interface IssuedAdminKey extends AdminKeyView {
  key: string;
}

function adminKeyView(record: AdminKeyRecord, now = Date.now()): AdminKeyView {
  const expiresAtMs = record.expiresAt === null ? null : Date.parse(record.expiresAt);
  return {
    id: record.id,
    object: 'admin_key',
    prefix: record.keyPrefix,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    status: expiresAtMs === null ? 'active' : expiresAtMs <= now ? 'expired' : 'expiring',
  };
}

async function issueAdminKey(db: Executor): Promise<IssuedAdminKey> {
  const key = `ak_${randomBase62(40)}`;
  const record: AdminKeyRecord = {
    id: newId('adk'),
    keyHash: sha256Hex(key),
    keyPrefix: key.slice(0, 11),
    createdAt: new Date().toISOString(),
    expiresAt: null,
  };
  await insertAdminKey(db, record);
  return { ...adminKeyView(record), key };
}

/**
 * Admin keys (ak_…): they call `/api/v2/admin/` to provision projects and their keys.
 * Stored as hashes like project keys; rolled with a grace period like them.
 */
export class AdminKeyService {
  constructor(
    private readonly store: Store,
    /** Called after a roll, so this process stops honouring a rolled-out key at once (others: within 5 s). */
    private readonly onRolled: () => void = () => {},
  ) {}

  /** Issues an admin key (`ordercast admin create-key`, or an admin key creating another). */
  create(): Promise<IssuedAdminKey> {
    return issueAdminKey(this.store.db);
  }

  async list(): Promise<AdminKeyView[]> {
    const now = Date.now();
    return (await listAdminKeys(this.store.db)).map((record) => adminKeyView(record, now));
  }

  /** Issues a successor; the old key keeps working for `expiresInSeconds` (0: it stops at once, on running servers within 5 s). */
  async roll(keyId: string, expiresInSeconds = 0): Promise<{ key: IssuedAdminKey; previous: AdminKeyView }> {
    assertRollSeconds(expiresInSeconds);
    const now = Date.now();
    const old = await findAdminKey(this.store.db, keyId);
    if (!old) throw new OrdercastError('api_key_not_found', `No admin key ${keyId}`, { keyId });
    if (old.expiresAt !== null && Date.parse(old.expiresAt) <= now) {
      throw new OrdercastError('api_key_inactive', `Cannot roll admin key ${keyId}: it has already expired`, { keyId, status: 'expired' });
    }
    const expiresAt = rolledKeyExpiry(old.expiresAt, now, expiresInSeconds);
    const key = await inTransaction(this.store.db, async (trx) => {
      await setAdminKeyExpiry(trx, keyId, expiresAt);
      return issueAdminKey(trx);
    });
    this.onRolled();
    return { key, previous: adminKeyView({ ...old, expiresAt }) };
  }

  /**
   * At a server's first start, when no admin key exists, issues one (returned, to be shown
   * once). Only one process of a deployment gets it, and only once: a later start, or one
   * after `ordercast admin create-key`, issues none.
   */
  async bootstrap(): Promise<IssuedAdminKey | undefined> {
    if ((await countAdminKeys(this.store.db)) > 0) return undefined;
    if (!(await claimAdminKeyBootstrap(this.store.db, new Date().toISOString()))) return undefined;
    return this.create();
  }
}
