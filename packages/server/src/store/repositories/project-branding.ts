import type { Branding } from '../../domain/branding.js';
import type { Executor } from '../transaction.js';

/** A project's branding as stored, or undefined when it never set any. */
export async function findBranding(db: Executor, projectId: string): Promise<Branding | undefined> {
  const row = await db.selectFrom('project_branding').selectAll().where('project_id', '=', projectId).executeTakeFirst();
  if (!row) return undefined;
  let keys: unknown;
  try {
    keys = JSON.parse(row.public_metadata_keys);
  } catch {
    keys = [];
  }
  return {
    displayName: row.display_name,
    logoUrl: row.logo_url,
    accentColor: row.accent_color,
    supportUrl: row.support_url,
    supportEmail: row.support_email,
    publicMetadataKeys: Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [],
  };
}

export async function saveBranding(db: Executor, projectId: string, branding: Branding, now: string): Promise<void> {
  const values = {
    display_name: branding.displayName,
    logo_url: branding.logoUrl,
    accent_color: branding.accentColor,
    support_url: branding.supportUrl,
    support_email: branding.supportEmail,
    public_metadata_keys: JSON.stringify(branding.publicMetadataKeys),
    updated_at: now,
  };
  await db
    .insertInto('project_branding')
    .values({ project_id: projectId, ...values })
    .onConflict((oc) => oc.column('project_id').doUpdateSet(values))
    .execute();
}
