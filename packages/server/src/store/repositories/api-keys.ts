import type { Selectable } from 'kysely';
import { isPermission, type Permission } from '../../domain/permissions.js';
import type { ApiKeyKind, ApiKeysTable } from '../schema.js';
import type { Executor } from '../transaction.js';

export interface ApiKeyRecord {
  id: string;
  projectId: string;
  kind: ApiKeyKind;
  keyHash: string;
  keyPrefix: string;
  createdAt: string;
  expiresAt: string | null;
  /** A restricted key's permissions; null for a secret or publishable key. */
  permissions: readonly Permission[] | null;
  revokedAt: string | null;
}

/** A key as the credential check sees it: with whether its project is disabled. */
export interface ApiKeyLookup extends ApiKeyRecord {
  projectDisabledAt: string | null;
}

function parsePermissions(text: string | null): Permission[] | null {
  if (text === null) return null;
  // Only permissions this version knows are granted: a stored name it does not know grants nothing.
  return (JSON.parse(text) as unknown[]).filter(isPermission);
}

function rowToApiKey(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    kind: row.kind,
    keyHash: row.key_hash,
    keyPrefix: row.key_prefix,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    permissions: parsePermissions(row.permissions),
    revokedAt: row.revoked_at,
  };
}

export async function insertApiKey(db: Executor, key: ApiKeyRecord): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      project_id: key.projectId,
      kind: key.kind,
      key_hash: key.keyHash,
      key_prefix: key.keyPrefix,
      created_at: key.createdAt,
      expires_at: key.expiresAt,
      permissions: key.permissions === null ? null : JSON.stringify(key.permissions),
      revoked_at: key.revokedAt,
    })
    .execute();
}

/** Looks a key up by the hash of its full text, with its project's disabled mark; the caller checks expiry. */
export async function findApiKeyByHash(db: Executor, keyHash: string): Promise<ApiKeyLookup | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('projects', 'projects.id', 'api_keys.project_id')
    .selectAll('api_keys')
    .select('projects.disabled_at as project_disabled_at')
    .where('api_keys.key_hash', '=', keyHash)
    .executeTakeFirst();
  return row ? { ...rowToApiKey(row), projectDisabledAt: row.project_disabled_at } : undefined;
}

/** One key of a project, whatever its state. */
export async function findApiKey(db: Executor, projectId: string, id: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  return row ? rowToApiKey(row) : undefined;
}

/** Every key of a project, live or not, oldest first. */
export async function listApiKeys(db: Executor, projectId: string): Promise<ApiKeyRecord[]> {
  const rows = await db.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).orderBy('created_at').orderBy('id').execute();
  return rows.map(rowToApiKey);
}

/** Makes every live key of that kind expire at `at` (rotation). */
export async function expireApiKeys(db: Executor, projectId: string, kind: ApiKeyKind, at: string): Promise<number> {
  const result = await db
    .updateTable('api_keys')
    .set({ expires_at: at })
    .where('project_id', '=', projectId)
    .where('kind', '=', kind)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Sets when one key stops working (a roll's grace, or a revocation when `revokedAt` is
 * given), unless it was revoked meanwhile. Returns whether the row was written.
 */
export async function setApiKeyExpiry(db: Executor, id: string, change: { expiresAt: string; revokedAt?: string }): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ expires_at: change.expiresAt, ...(change.revokedAt ? { revoked_at: change.revokedAt } : {}) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The project's keys that still work at `now` (never expiring, or in a rotation's grace period): secret keys first, oldest first. */
export async function listLiveApiKeys(db: Executor, projectId: string, now: string): Promise<ApiKeyRecord[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('project_id', '=', projectId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('kind', 'desc')
    .orderBy('created_at')
    .execute();
  return rows.map(rowToApiKey);
}

/** What a re-check of an open connection's key needs: when the key expires, and whether its project is disabled. */
export interface ApiKeyState {
  expiresAt: string | null;
  projectDisabled: boolean;
}

/** The state of each of these keys; a key missing from the result no longer exists. One query. */
export async function findApiKeyStates(db: Executor, ids: readonly string[]): Promise<Map<string, ApiKeyState>> {
  const result = new Map<string, ApiKeyState>();
  if (ids.length === 0) return result;
  const rows = await db
    .selectFrom('api_keys')
    .innerJoin('projects', 'projects.id', 'api_keys.project_id')
    .select(['api_keys.id as id', 'api_keys.expires_at as expires_at', 'projects.disabled_at as disabled_at'])
    .where('api_keys.id', 'in', ids as string[])
    .execute();
  for (const row of rows) result.set(row.id, { expiresAt: row.expires_at, projectDisabled: row.disabled_at !== null });
  return result;
}
