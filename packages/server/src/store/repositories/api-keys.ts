import type { Selectable } from 'kysely';
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
    })
    .execute();
}

/** Looks a key up by the hash of its full text; the caller checks expiry. */
export async function findApiKeyByHash(db: Executor, keyHash: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return row ? rowToApiKey(row) : undefined;
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

/** When each of these keys expires (null: never); a key missing from the result no longer exists. One query. */
export async function findApiKeyExpiries(db: Executor, ids: readonly string[]): Promise<Map<string, string | null>> {
  const result = new Map<string, string | null>();
  if (ids.length === 0) return result;
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'expires_at'])
    .where('id', 'in', ids as string[])
    .execute();
  for (const row of rows) result.set(row.id, row.expires_at);
  return result;
}
