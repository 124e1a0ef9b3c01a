import type { Actor } from '../domain/actor.js';
import type { AdminKeyService, AdminKeyView, IssuedAdminKey } from './admin-key-service.js';
import type { AuditLog } from './audit-log.js';
import type { ApiKeyKind, ApiKeyView, IssuedApiKey, ProjectKeyService } from './project-key-service.js';
import type { CreatedProject, ProjectRecord, ProjectService } from './project-service.js';

/**
 * What an operator provisions, over the admin API or with the CLI, each change recorded
 * in the audit log with who made it. The routes and the CLI commands are thin callers of
 * this one service, so neither can change a project or a key without an audit entry.
 */
export class ProjectAdministration {
  constructor(
    private readonly projects: ProjectService,
    private readonly projectKeys: ProjectKeyService,
    private readonly adminKeys: AdminKeyService,
    private readonly audit: AuditLog,
  ) {}

  async createProject(input: { name: string; lifecycle: string | object }, actor: Actor, options: { lifecycleFiles: boolean }): Promise<CreatedProject> {
    const created = await this.projects.create(input, options);
    const { project } = created;
    await this.record(project.id, actor, 'project.created', { name: project.name, lifecycle: project.lifecycle.name });
    return created;
  }

  async renameProject(id: string, name: string, actor: Actor): Promise<ProjectRecord> {
    const project = await this.projects.rename(id, name);
    await this.record(id, actor, 'project.renamed', { name: project.name });
    return project;
  }

  async disableProject(id: string, actor: Actor): Promise<ProjectRecord> {
    const { project, changed } = await this.projects.disable(id);
    if (changed) await this.record(id, actor, 'project.disabled', { disabledAt: project.disabledAt });
    return project;
  }

  async enableProject(id: string, actor: Actor): Promise<ProjectRecord> {
    const { project, changed } = await this.projects.enable(id);
    if (changed) await this.record(id, actor, 'project.enabled', {});
    return project;
  }

  async createKey(projectId: string, input: { kind: ApiKeyKind; permissions?: unknown }, actor: Actor): Promise<IssuedApiKey> {
    const issued = await this.projectKeys.create(projectId, input);
    await this.record(projectId, actor, 'api_key.created', { keyId: issued.id, kind: issued.kind, permissions: issued.permissions }, issued.id);
    return issued;
  }

  async rollKey(projectId: string, keyId: string, expiresInSeconds: number, actor: Actor): Promise<{ key: IssuedApiKey; previous: ApiKeyView }> {
    const rolled = await this.projectKeys.roll(projectId, keyId, expiresInSeconds);
    await this.record(projectId, actor, 'api_key.rotated', { newKeyId: rolled.key.id, previousExpiresAt: rolled.previous.expiresAt }, keyId);
    return rolled;
  }

  async revokeKey(projectId: string, keyId: string, actor: Actor): Promise<ApiKeyView> {
    const revoked = await this.projectKeys.revoke(projectId, keyId);
    await this.record(projectId, actor, 'api_key.revoked', { revokedAt: revoked.revokedAt }, keyId);
    return revoked;
  }

  async createAdminKey(actor: Actor): Promise<IssuedAdminKey> {
    const issued = await this.adminKeys.create();
    await this.audit.record({ projectId: null, actor, action: 'admin_key.created', target: { type: 'admin_key', id: issued.id }, changes: {} });
    return issued;
  }

  async rollAdminKey(keyId: string, expiresInSeconds: number, actor: Actor): Promise<{ key: IssuedAdminKey; previous: AdminKeyView }> {
    const rolled = await this.adminKeys.roll(keyId, expiresInSeconds);
    await this.audit.record({
      projectId: null,
      actor,
      action: 'admin_key.rotated',
      target: { type: 'admin_key', id: keyId },
      changes: { newKeyId: rolled.key.id, previousExpiresAt: rolled.previous.expiresAt },
    });
    return rolled;
  }

  private record(
    projectId: string,
    actor: Actor,
    action: 'project.created' | 'project.renamed' | 'project.disabled' | 'project.enabled' | 'api_key.created' | 'api_key.rotated' | 'api_key.revoked',
    changes: Record<string, unknown>,
    keyId?: string,
  ): Promise<void> {
    const target = keyId ? { type: 'api_key', id: keyId } : { type: 'project', id: projectId };
    return this.audit.record({ projectId, actor, action, target, changes });
  }
}
