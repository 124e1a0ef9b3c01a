import type { Actor } from '../domain/actor.js';
import { applyBrandingChange, DEFAULT_BRANDING, type Branding } from '../domain/branding.js';
import type { Store } from '../store/database.js';
import { findBranding, saveBranding } from '../store/repositories/project-branding.js';
import { inTransaction } from '../store/transaction.js';
import type { AuditLog } from './audit-log.js';

/** A project's buyer-page branding (display name, logo, accent, support, public metadata keys). */
export class BrandingService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  async get(projectId: string): Promise<Branding> {
    return (await findBranding(this.store.db, projectId)) ?? DEFAULT_BRANDING;
  }

  /** Sets the fields `change` names (null clears one); every change is in the audit log. */
  async update(projectId: string, change: Record<string, unknown>, actor: Actor): Promise<Branding> {
    return inTransaction(this.store.db, async (trx) => {
      const current = (await findBranding(trx, projectId)) ?? DEFAULT_BRANDING;
      const next = applyBrandingChange(current, change);
      await saveBranding(trx, projectId, next, new Date().toISOString());
      await this.audit.record(
        { projectId, actor, action: 'project.branding_updated', target: { type: 'project', id: projectId }, changes: { ...change } },
        trx,
      );
      return next;
    });
  }
}
