/**
 * Who made a change: the credential, and the address it came from. Order events carry
 * one (`actor`), and so does every entry of the audit log. Never a secret: only ids.
 */
export interface Actor {
  kind: 'secret_key' | 'publishable_key' | 'admin_key' | 'dashboard_session' | 'user_token' | 'cli';
  /** The key id (`key_…`), the dashboard session id (`dss_…`), the user's external id; null for the CLI. */
  id: string | null;
  /** A dashboard session's role. */
  role?: 'viewer' | 'operator';
  /** The client's address as the server saw it (after trusted proxies); null for the CLI. */
  address: string | null;
}

export const CLI_ACTOR: Actor = { kind: 'cli', id: null, address: null };

/** The stored form: one JSON text column. */
export function encodeActor(actor: Actor): string {
  return JSON.stringify({ kind: actor.kind, id: actor.id, ...(actor.role ? { role: actor.role } : {}), address: actor.address });
}

export function decodeActor(text: string | null): Actor | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Actor;
    return typeof value?.kind === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** The actor as the API shows it on an order event: who, without where from. */
export function publicActor(actor: Actor | null): { kind: Actor['kind']; id: string | null; role?: Actor['role'] } | null {
  if (!actor) return null;
  return { kind: actor.kind, id: actor.id, ...(actor.role ? { role: actor.role } : {}) };
}
