import { readFileSync } from 'node:fs';
import { OrdercastError } from '../domain/errors.js';
import { parseLifecycle, type Lifecycle } from '../domain/lifecycle.js';
import { lifecyclePresets } from '../domain/lifecycle-presets.js';
import type { Store } from '../store/database.js';
import type { ApiKeyKind } from '../store/schema.js';
import { expireApiKeys, insertApiKey, listLiveApiKeys } from '../store/repositories/api-keys.js';
import { countProjects, findProject, insertProject, listProjects, type ProjectRecord } from '../store/repositories/projects.js';
import { inTransaction, type Executor } from '../store/transaction.js';
import { newId, randomBase62, sha256Hex } from './random.js';

export interface CreatedProject {
  project: ProjectRecord;
  /** Shown once: only their hashes are stored. */
  secretKey: string;
  publishableKey: string;
  /** Signs user tokens (HS256); a merchant backend may sign its own with it. */
  tokenSecret: string;
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

export const KEY_PREFIX: Record<ApiKeyKind, string> = { secret: 'sk_', publishable: 'pk_' };

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
  } catch {
    throw new OrdercastError(
      'invalid_lifecycle',
      `Unknown lifecycle "${spec}": use ${Object.keys(lifecyclePresets).join(' or ')}, or the path of a JSON file`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OrdercastError('invalid_lifecycle', `${spec} is not valid JSON: ${(error as Error).message}`);
  }
  return parseLifecycle(json);
}

export class ProjectService {
  private readonly cache = new Map<string, ProjectRecord>();

  constructor(private readonly store: Store) {}

  async create(input: { name: string; lifecycle: string | object }): Promise<CreatedProject> {
    const name = input.name.trim();
    if (name === '' || name.length > 200) throw new OrdercastError('validation_failed', 'A project name must be 1 to 200 characters');
    const lifecycle = resolveLifecycle(input.lifecycle);
    const project: ProjectRecord = {
      id: newId('prj'),
      name,
      lifecycle,
      tokenSecret: `tks_${randomBase62(48)}`,
      createdAt: new Date().toISOString(),
    };
    return inTransaction(this.store.db, async (trx) => {
      await insertProject(trx, project);
      const secretKey = await this.addKey(trx, project.id, 'secret');
      const publishableKey = await this.addKey(trx, project.id, 'publishable');
      return { project, secretKey, publishableKey, tokenSecret: project.tokenSecret };
    });
  }

  private async addKey(db: Executor, projectId: string, kind: ApiKeyKind): Promise<string> {
    const key = `${KEY_PREFIX[kind]}${randomBase62(40)}`;
    await insertApiKey(db, {
      id: newId('key'),
      projectId,
      kind,
      keyHash: sha256Hex(key),
      keyPrefix: key.slice(0, 11),
      createdAt: new Date().toISOString(),
      expiresAt: null,
    });
    return key;
  }

  /**
   * Issues a new key of that kind. The old ones stop working after `graceSeconds`
   * (0: at once), so a deployment can roll over without downtime.
   */
  async rotateKey(projectId: string, kind: ApiKeyKind, graceSeconds = 0): Promise<{ key: string; oldKeysExpireAt: string }> {
    await this.get(projectId);
    const oldKeysExpireAt = new Date(Date.now() + Math.max(0, graceSeconds) * 1000).toISOString();
    const key = await inTransaction(this.store.db, async (trx) => {
      await expireApiKeys(trx, projectId, kind, oldKeysExpireAt);
      return this.addKey(trx, projectId, kind);
    });
    return { key, oldKeysExpireAt };
  }

  /** Projects never change after creation except their keys, so they are cached. */
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
    const project = await this.get(id);
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

  count(): Promise<number> {
    return countProjects(this.store.db);
  }
}
