import { readFileSync } from 'node:fs';
import { OrdercastError } from '../domain/errors.js';
import { parseLifecycle, type Lifecycle } from '../domain/lifecycle.js';
import { lifecyclePresets } from '../domain/lifecycle-presets.js';
import type { Store } from '../store/database.js';
import type { ApiKeyKind } from '../store/schema.js';
import type { Permission } from '../domain/permissions.js';
import { expireApiKeys, insertApiKey, listLiveApiKeys } from '../store/repositories/api-keys.js';
import {
  countProjects,
  findProject,
  findTokenSecrets,
  insertProject,
  listProjects,
  listProjectsPage,
  renameProject,
  replaceTokenSecrets,
  setProjectDisabled,
  type ProjectRecord,
  type StoredTokenSecrets,
} from '../store/repositories/projects.js';
import type { SecretBox } from '../store/secret-box.js';
import { inTransaction, type Executor } from '../store/transaction.js';
import { newId, randomBase62 } from '../lib/ids.js';
import { sha256Hex } from '../lib/hashing.js';

export type { ProjectRecord };

export interface CreatedProject {
  project: ProjectRecord;
  /** Shown once: the keys are stored as hashes only. */
  secretKey: string;
  publishableKey: string;
  /** Signs user tokens (HS256); a merchant backend may sign its own with it. Stored encrypted. */
  tokenSecret: string;
}

/** One user-token signing secret, opened, with a short id that names it without revealing it. */
export interface TokenSecret {
  secret: string;
  id: string;
}

/** A project's signing secrets: the current one signs, the previous one only verifies until its grace ends. */
export interface TokenSecrets {
  current: TokenSecret;
  previous: (TokenSecret & { expiresAtMs: number }) | undefined;
}

/** Which secrets a project has now, by id only: what open connections are re-checked against. */
export interface TokenSecretIds {
  /** The project is disabled: no token of it is valid. */
  disabled: boolean;
  currentId: string;
  previousId: string | undefined;
  previousExpiresAtMs: number | undefined;
}

/** Token secrets are cached this long: a rotation made by another process is seen within it. */
const TOKEN_SECRETS_CACHE_MS = 5_000;

export function tokenSecretId(secret: string): string {
  return sha256Hex(`ordercast token secret id:${secret}`).slice(0, 16);
}

function newTokenSecret(): string {
  return `tks_${randomBase62(48)}`;
}

/** What a project's own secret key may read about it: never a key, a hash or the token secret. */
export interface ProjectView {
  id: string;
  object: 'project';
  name: string;
  createdAt: string;
  lifecycle: Lifecycle;
  keys: { kind: ApiKeyKind; prefix: string; createdAt: string; expiresAt: string | null }[];
}

export const KEY_PREFIX: Record<ApiKeyKind, string> = { secret: 'sk_', publishable: 'pk_', restricted: 'rk_' };

/** Issues a project key: stored as its hash (and a prefix people recognise it by), returned in full once. */
export async function insertNewApiKey(
  db: Executor,
  projectId: string,
  kind: ApiKeyKind,
  permissions: readonly Permission[] | null = null,
): Promise<{ id: string; key: string }> {
  const key = `${KEY_PREFIX[kind]}${randomBase62(40)}`;
  const id = newId('key');
  await insertApiKey(db, {
    id,
    projectId,
    kind,
    keyHash: sha256Hex(key),
    keyPrefix: key.slice(0, 11),
    createdAt: new Date().toISOString(),
    expiresAt: null,
    permissions: kind === 'restricted' ? (permissions ?? []) : null,
    revokedAt: null,
  });
  return { id, key };
}

export function assertProjectName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (name === '' || name.length > 200) throw new OrdercastError('validation_failed', 'A project name must be 1 to 200 characters', { field: 'name' });
  return name;
}

/**
 * Resolves `onramp`, `store`, a path to a JSON file, or a lifecycle object into a
 * validated lifecycle.
 */
export function resolveLifecycle(spec: string | object): Lifecycle {
  if (typeof spec === 'object') return parseLifecycle(spec);
  const preset = lifecyclePresets[spec];
  if (preset) return preset;
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (error) {
    const choices = `use ${Object.keys(lifecyclePresets).join(' or ')}, or the path of a JSON file`;
    const code = (error as NodeJS.ErrnoException).code;
    // A name that does not look like a file is most likely a mistyped preset.
    if (code === 'ENOENT' && !looksLikeAPath(spec)) throw new OrdercastError('invalid_lifecycle', `Unknown lifecycle "${spec}": ${choices}`);
    const reason = code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new OrdercastError('invalid_lifecycle', `Cannot read the lifecycle file ${spec}: ${reason} (${choices})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OrdercastError('invalid_lifecycle', `${spec} is not valid JSON: ${(error as Error).message}`);
  }
  return parseLifecycle(json);
}

function looksLikeAPath(spec: string): boolean {
  return spec.includes('/') || spec.includes('\\') || spec.includes('.');
}

/** A project after a disable or an enable, and whether that changed it (false: it already was so). */
export interface ProjectChange {
  project: ProjectRecord;
  changed: boolean;
}

export class ProjectService {
  private readonly cache = new Map<string, ProjectRecord>();
  private readonly secretsCache = new Map<string, { secrets: TokenSecrets; until: number }>();
  /** Opened secrets by their stored form, so a periodic re-check does not decrypt again. */
  private readonly openedIds = new Map<string, string>();
  /** Told when a project is disabled or enabled here, so this process's caches and open connections follow at once. */
  private readonly accessListeners = new Set<(projectId: string) => void>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
  ) {}

  /**
   * Creates a project with a secret and a publishable key. `lifecycleFiles: false` (the admin
   * API) takes only a preset name or a lifecycle object: never a path on the server.
   */
  async create(input: { name: string; lifecycle: string | object }, options: { lifecycleFiles?: boolean } = {}): Promise<CreatedProject> {
    const name = assertProjectName(input.name);
    if (options.lifecycleFiles === false && typeof input.lifecycle === 'string' && !lifecyclePresets[input.lifecycle]) {
      throw new OrdercastError(
        'invalid_lifecycle',
        `Unknown lifecycle "${input.lifecycle}": use ${Object.keys(lifecyclePresets).join(' or ')}, or a lifecycle object`,
      );
    }
    const lifecycle = resolveLifecycle(input.lifecycle);
    const project: ProjectRecord = { id: newId('prj'), name, lifecycle, createdAt: new Date().toISOString(), disabledAt: null };
    const tokenSecret = newTokenSecret();
    return inTransaction(this.store.db, async (trx) => {
      await insertProject(trx, project, this.box.seal(tokenSecret));
      const secretKey = (await insertNewApiKey(trx, project.id, 'secret')).key;
      const publishableKey = (await insertNewApiKey(trx, project.id, 'publishable')).key;
      return { project, secretKey, publishableKey, tokenSecret };
    });
  }

  /** Renames a project (admin API, CLI). */
  async rename(id: string, name: string): Promise<ProjectRecord> {
    const checked = assertProjectName(name);
    if (!(await renameProject(this.store.db, id, checked))) throw new OrdercastError('project_not_found', `No project ${id}`);
    this.cache.delete(id);
    return this.read(id);
  }

  /**
   * Disables a project: its keys and user tokens are refused, and its open sockets and
   * streams closed, within 5 s on every node (services/credential-watcher.ts); the
   * dispatcher stops claiming its webhook deliveries until it is enabled again.
   */
  async disable(id: string): Promise<ProjectChange> {
    return this.setDisabled(id, new Date().toISOString());
  }

  /** Enables a disabled project: its keys and tokens work again and its webhooks resume. */
  async enable(id: string): Promise<ProjectChange> {
    return this.setDisabled(id, null);
  }

  /** One read: the project as stored, changed only when it is not already so (then nothing is written or told). */
  private async setDisabled(id: string, at: string | null): Promise<ProjectChange> {
    const current = await this.read(id);
    if ((current.disabledAt === null) === (at === null)) return { project: current, changed: false };
    if (!(await setProjectDisabled(this.store.db, id, at))) throw new OrdercastError('project_not_found', `No project ${id}`);
    this.cache.delete(id);
    this.secretsCache.delete(id);
    this.notifyAccessChange(id);
    return { project: { ...current, disabledAt: at }, changed: true };
  }

  /** Tells this process's caches and open connections that a project's access changed (disabled, enabled, a key revoked). */
  notifyAccessChange(projectId: string): void {
    for (const listener of this.accessListeners) listener(projectId);
  }

  /** Calls `listener` when this process disables or enables a project, or revokes or rolls one of its keys. */
  onAccessChange(listener: (projectId: string) => void): () => void {
    this.accessListeners.add(listener);
    return () => this.accessListeners.delete(listener);
  }

  /** The project as stored now (no cache): for the admin API, where a rename or disable must show at once. */
  async read(id: string): Promise<ProjectRecord> {
    const project = await findProject(this.store.db, id);
    if (!project) throw new OrdercastError('project_not_found', `No project ${id}`);
    return project;
  }

  /**
   * Issues a new key of that kind. The old ones stop working after `graceSeconds`
   * (0: at once), so a deployment can roll over without downtime.
   */
  async rotateKey(projectId: string, kind: ApiKeyKind, graceSeconds = 0): Promise<{ key: string; oldKeysExpireAt: string }> {
    await this.get(projectId);
    const oldKeysExpireAt = new Date(Date.now() + Math.max(0, graceSeconds) * 1000).toISOString();
    const { key } = await inTransaction(this.store.db, async (trx) => {
      await expireApiKeys(trx, projectId, kind, oldKeysExpireAt);
      return insertNewApiKey(trx, projectId, kind);
    });
    return { key, oldKeysExpireAt };
  }

  /**
   * Issues a new user-token signing secret. Tokens signed with the old one keep
   * verifying for `graceSeconds` (0: they stop at once, on running servers within
   * 5 s); a secret rotated out before that is dropped at once. Returns the new secret.
   */
  async rotateTokenSecret(projectId: string, graceSeconds = 0): Promise<{ tokenSecret: string; previousExpiresAt: string }> {
    await this.get(projectId);
    const tokenSecret = newTokenSecret();
    const previousExpiresAt = new Date(Date.now() + Math.max(0, graceSeconds) * 1000).toISOString();
    for (let attempt = 1; ; attempt++) {
      const [stored] = await findTokenSecrets(this.store.db, [projectId]);
      if (!stored) throw new OrdercastError('project_not_found', `No project ${projectId}`);
      const next = { current: this.box.seal(tokenSecret), previous: stored.current, previousExpiresAt };
      // Compare and set: a concurrent rotation or re-encryption makes this one read again.
      if (await replaceTokenSecrets(this.store.db, stored, next)) break;
      if (attempt === 5) throw new OrdercastError('service_unavailable', 'The token secret is being changed by another process: try again');
    }
    this.secretsCache.delete(projectId);
    return { tokenSecret, previousExpiresAt };
  }

  /** The project's token secrets, opened (cached for a few seconds). Throws project_not_found. */
  async tokenSecrets(projectId: string): Promise<TokenSecrets> {
    const now = Date.now();
    const cached = this.secretsCache.get(projectId);
    if (cached && cached.until >= now) return cached.secrets;
    const [stored] = await findTokenSecrets(this.store.db, [projectId]);
    if (!stored) throw new OrdercastError('project_not_found', `No project ${projectId}`);
    if (stored.disabled) throw new OrdercastError('project_disabled', `The project ${projectId} is disabled: its keys and tokens do not work`);
    const secrets = this.openTokenSecrets(stored);
    if (this.secretsCache.size >= 10_000) this.secretsCache.delete(this.secretsCache.keys().next().value as string);
    this.secretsCache.set(projectId, { secrets, until: now + TOKEN_SECRETS_CACHE_MS });
    return secrets;
  }

  /** The ids of the token secrets of these projects as stored right now (one query, no cache). */
  async currentTokenSecretIds(projectIds: readonly string[]): Promise<Map<string, TokenSecretIds>> {
    const result = new Map<string, TokenSecretIds>();
    for (const stored of await findTokenSecrets(this.store.db, projectIds)) {
      result.set(stored.projectId, {
        currentId: this.storedSecretId(stored.current),
        previousId: stored.previous === null ? undefined : this.storedSecretId(stored.previous),
        previousExpiresAtMs: stored.previousExpiresAt === null ? undefined : Date.parse(stored.previousExpiresAt),
        disabled: stored.disabled === true,
      });
    }
    return result;
  }

  private openTokenSecrets(stored: StoredTokenSecrets): TokenSecrets {
    const current = this.box.open(stored.current);
    const previous = stored.previous === null ? undefined : this.box.open(stored.previous);
    return {
      current: { secret: current, id: tokenSecretId(current) },
      previous:
        previous === undefined || stored.previousExpiresAt === null
          ? undefined
          : { secret: previous, id: tokenSecretId(previous), expiresAtMs: Date.parse(stored.previousExpiresAt) },
    };
  }

  private storedSecretId(stored: string): string {
    let id = this.openedIds.get(stored);
    if (id === undefined) {
      id = tokenSecretId(this.box.open(stored));
      if (this.openedIds.size >= 10_000) this.openedIds.clear();
      this.openedIds.set(stored, id);
    }
    return id;
  }

  /**
   * Cached: a project's lifecycle never changes after creation. Its name and disabled mark
   * can (see `read` for them as stored now); its credentials are refused by AuthService.
   */
  async get(id: string): Promise<ProjectRecord> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const project = await findProject(this.store.db, id);
    if (!project) throw new OrdercastError('project_not_found', `No project ${id}`);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, project);
    return project;
  }

  /** The project as its dashboard shows it: lifecycle and the prefixes of the keys that still work. */
  async describe(id: string): Promise<ProjectView> {
    const project = await this.read(id);
    const keys = await listLiveApiKeys(this.store.db, id, new Date().toISOString());
    return {
      id: project.id,
      object: 'project',
      name: project.name,
      createdAt: project.createdAt,
      lifecycle: project.lifecycle,
      keys: keys.map((key) => ({ kind: key.kind, prefix: key.keyPrefix, createdAt: key.createdAt, expiresAt: key.expiresAt })),
    };
  }

  list(): Promise<ProjectRecord[]> {
    return listProjects(this.store.db);
  }

  /** A page of projects in creation order, after the project `startingAfter` (the admin API's list). */
  async listPage(page: { limit: number; startingAfter?: string }): Promise<{ projects: ProjectRecord[]; hasMore: boolean }> {
    const after = page.startingAfter === undefined ? undefined : await this.read(page.startingAfter);
    const rows = await listProjectsPage(this.store.db, { after, limit: page.limit + 1 });
    return { projects: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
  }

  count(): Promise<number> {
    return countProjects(this.store.db);
  }
}
