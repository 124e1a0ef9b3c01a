import { OrdercastError } from '../domain/errors.js';
import { isPermission, PERMISSIONS, type Permission } from '../domain/permissions.js';
import type { Store } from '../store/database.js';
import { findApiKey, listApiKeys, setApiKeyExpiry, type ApiKeyRecord } from '../store/repositories/api-keys.js';
import type { ApiKeyKind } from '../store/schema.js';
import { inTransaction } from '../store/transaction.js';
import { assertRollSeconds, rolledKeyExpiry } from './key-roll.js';
import { insertNewApiKey, type ProjectService } from './project-service.js';

export type { ApiKeyKind };

export type ApiKeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';

/** A project key as the admin API shows it: never the key itself after creation, nor its hash. */
export interface ApiKeyView {
  id: string;
  object: 'api_key';
  projectId: string;
  kind: ApiKeyKind;
  /** The first 11 characters of the key, to recognise it by. */
  prefix: string;
  permissions: readonly Permission[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: ApiKeyStatus;
}

/** A key just issued: its view, and the key itself, shown this once. */
export interface IssuedApiKey extends ApiKeyView {
  key: string;
}

export function apiKeyView(record: ApiKeyRecord, now = Date.now()): ApiKeyView {
  const expiresAtMs = record.expiresAt === null ? null : Date.parse(record.expiresAt);
  const status: ApiKeyStatus = record.revokedAt !== null ? 'revoked' : expiresAtMs === null ? 'active' : expiresAtMs <= now ? 'expired' : 'expiring';
  return {
    id: record.id,
    object: 'api_key',
    projectId: record.projectId,
    kind: record.kind,
    prefix: record.keyPrefix,
    permissions: record.permissions,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    status,
  };
}

/** Checks a restricted key's permissions: known names only (400 listing the valid ones), at least one, no repeats. */
export function parsePermissions(kind: ApiKeyKind, permissions: unknown): Permission[] | null {
  if (kind !== 'restricted') {
    if (permissions !== undefined && permissions !== null) {
      throw new OrdercastError(
        'validation_failed',
        `Only a restricted key carries permissions: a ${kind} key ${kind === 'secret' ? 'may do everything' : 'is limited by its kind'}`,
        {
          field: 'permissions',
        },
      );
    }
    return null;
  }
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw new OrdercastError('validation_failed', `A restricted key needs a list of permissions: ${PERMISSIONS.join(', ')}`, {
      field: 'permissions',
      valid: PERMISSIONS,
    });
  }
  const unknown = permissions.filter((p) => !isPermission(p));
  if (unknown.length > 0) {
    throw new OrdercastError(
      'unknown_permission',
      `Unknown permission ${unknown.map((p) => JSON.stringify(p)).join(', ')}: the valid ones are ${PERMISSIONS.join(', ')}`,
      {
        field: 'permissions',
        unknown,
        valid: PERMISSIONS,
      },
    );
  }
  return PERMISSIONS.filter((p) => permissions.includes(p));
}

/**
 * A project's keys as the admin API and the CLI manage them. Each change is one method
 * (create, roll, revoke): the one place that change is made, and would be recorded.
 */
export class ProjectKeyService {
  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
  ) {}

  /** Issues a key: secret, publishable, or restricted to `permissions`. */
  async create(projectId: string, input: { kind: ApiKeyKind; permissions?: unknown }): Promise<IssuedApiKey> {
    const permissions = parsePermissions(input.kind, input.permissions);
    await this.projects.read(projectId);
    const { id, key } = await insertNewApiKey(this.store.db, projectId, input.kind, permissions);
    return { ...(await this.view(projectId, id)), key };
  }

  async list(projectId: string): Promise<ApiKeyView[]> {
    await this.projects.read(projectId);
    const now = Date.now();
    return (await listApiKeys(this.store.db, projectId)).map((record) => apiKeyView(record, now));
  }

  async get(projectId: string, keyId: string): Promise<ApiKeyView> {
    return apiKeyView(await this.find(projectId, keyId));
  }

  /**
   * Issues a successor with the same kind and permissions; the old key keeps working for
   * `expiresInSeconds` (0: it stops at once, on running servers within 5 s).
   */
  async roll(projectId: string, keyId: string, expiresInSeconds = 0): Promise<{ key: IssuedApiKey; previous: ApiKeyView }> {
    assertRollSeconds(expiresInSeconds);
    const now = Date.now();
    await this.find(projectId, keyId);
    // Inside the transaction, only the transaction's connection: SQLite has one, and a query beside it would wait forever.
    const { id, key } = await inTransaction(this.store.db, async (trx) => {
      const old = await findApiKey(trx, projectId, keyId);
      if (!old) throw new OrdercastError('api_key_not_found', `No key ${keyId} in project ${projectId}`, { keyId });
      this.assertLive(old, now, 'roll');
      const expiresAt = rolledKeyExpiry(old.expiresAt, now, expiresInSeconds);
      if (!(await setApiKeyExpiry(trx, old.id, { expiresAt }))) throw this.inactive(old, 'roll');
      return insertNewApiKey(trx, projectId, old.kind, old.permissions);
    });
    this.projects.notifyAccessChange(projectId);
    return { key: { ...(await this.view(projectId, id)), key }, previous: await this.view(projectId, keyId) };
  }

  /** Stops a key at once (on running servers within 5 s, open sockets and streams included). */
  async revoke(projectId: string, keyId: string): Promise<ApiKeyView> {
    const now = Date.now();
    const old = await this.find(projectId, keyId);
    this.assertLive(old, now, 'revoke');
    const at = new Date(now).toISOString();
    if (!(await setApiKeyExpiry(this.store.db, old.id, { expiresAt: at, revokedAt: at }))) throw this.inactive(old, 'revoke');
    this.projects.notifyAccessChange(projectId);
    return this.view(projectId, keyId);
  }

  private async view(projectId: string, keyId: string): Promise<ApiKeyView> {
    return apiKeyView(await this.find(projectId, keyId));
  }

  private async find(projectId: string, keyId: string): Promise<ApiKeyRecord> {
    await this.projects.read(projectId);
    const record = await findApiKey(this.store.db, projectId, keyId);
    if (!record) throw new OrdercastError('api_key_not_found', `No key ${keyId} in project ${projectId}`, { keyId });
    return record;
  }

  private assertLive(record: ApiKeyRecord, now: number, action: 'roll' | 'revoke'): void {
    if (record.revokedAt !== null || (record.expiresAt !== null && Date.parse(record.expiresAt) <= now)) throw this.inactive(record, action);
  }

  private inactive(record: ApiKeyRecord, action: 'roll' | 'revoke'): OrdercastError {
    const state = record.revokedAt !== null ? 'revoked' : 'expired';
    return new OrdercastError('api_key_inactive', `Cannot ${action} key ${record.id}: it is already ${state}`, { keyId: record.id, status: state });
  }
}
