import type { Executor } from '../transaction.js';

export interface AdminKeyRecord {
  id: string;
  keyHash: string;
  keyPrefix: string;
  createdAt: string;
  expiresAt: string | null;
}

function toAdminKey(row: { id: string; key_hash: string; key_prefix: string; created_at: string; expires_at: string | null }): AdminKeyRecord {
  return { id: row.id, keyHash: row.key_hash, keyPrefix: row.key_prefix, createdAt: row.created_at, expiresAt: row.expires_at };
}

export async function insertAdminKey(db: Executor, key: AdminKeyRecord): Promise<void> {
  await db
    .insertInto('admin_keys')
    .values({ id: key.id, key_hash: key.keyHash, key_prefix: key.keyPrefix, created_at: key.createdAt, expires_at: key.expiresAt })
    .execute();
}

export async function findAdminKeyByHash(db: Executor, keyHash: string): Promise<AdminKeyRecord | undefined> {
  const row = await db.selectFrom('admin_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return row ? toAdminKey(row) : undefined;
}

export async function findAdminKey(db: Executor, id: string): Promise<AdminKeyRecord | undefined> {
  const row = await db.selectFrom('admin_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toAdminKey(row) : undefined;
}

export async function listAdminKeys(db: Executor): Promise<AdminKeyRecord[]> {
  const rows = await db.selectFrom('admin_keys').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toAdminKey);
}

export async function countAdminKeys(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('admin_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Sets when an admin key stops working. */
export async function setAdminKeyExpiry(db: Executor, id: string, expiresAt: string): Promise<boolean> {
  const result = await db.updateTable('admin_keys').set({ expires_at: expiresAt }).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Claims the one-time creation of the first admin key at start-up: true for the one
 * process that wrote the mark, false for every other (and every later start).
 */
export async function claimAdminKeyBootstrap(db: Executor, at: string): Promise<boolean> {
  const result = await db
    .insertInto('ordercast_settings')
    .values({ name: 'admin_key_bootstrapped_at', value: at })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}
