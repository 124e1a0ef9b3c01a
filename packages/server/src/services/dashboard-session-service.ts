import { encodeActor, type Actor } from '../domain/actor.js';
import { dashboardPermissions, isDashboardRole, type DashboardRole } from '../domain/dashboard-role.js';
import { OrdercastError } from '../domain/errors.js';
import type { Permission } from '../domain/permissions.js';
import { constantTimeEqual } from '../lib/constant-time.js';
import { sha256Base64url, sha256Hex } from '../lib/hashing.js';
import { newId, randomBase62 } from '../lib/ids.js';
import type { Store } from '../store/database.js';
import {
  endDashboardSession,
  findDashboardLinkByHash,
  findDashboardSession,
  findDashboardSessionByHash,
  insertDashboardLink,
  listDashboardSessions,
  startDashboardSession,
  type DashboardSessionRow,
} from '../store/repositories/dashboard-sessions.js';
import type { AuditLog } from './audit-log.js';
import type { ProjectService } from './project-service.js';

/** Someone signed in to the dashboard with a link: admitted wherever a secret key is, within the role. */
export interface DashboardPrincipal {
  kind: 'dashboard';
  projectId: string;
  sessionId: string;
  role: DashboardRole;
  permissions: readonly Permission[];
  expiresAtMs: number;
}

export const MAX_SESSION_SECONDS = 30 * 24 * 3600;
export const DEFAULT_LINK_SECONDS = 15 * 60;
export const MAX_LINK_SECONDS = 24 * 3600;
/** Session look-ups are cached briefly, as keys are: a revocation elsewhere is seen within this. */
const SESSION_CACHE_MS = 5_000;
const SESSION_CACHE_SIZE = 10_000;
const LINK_PATTERN = /^dl_[A-Za-z0-9]{40}$/;
const SESSION_PATTERN = /^ds_[A-Za-z0-9]{48}$/;

export interface DashboardSessionView {
  id: string;
  object: 'dashboard_session';
  role: DashboardRole;
  /** pending: the link was not opened yet; active; expired (the link or the session); ended (signed out or revoked). */
  status: 'pending' | 'active' | 'expired' | 'signed_out' | 'revoked';
  createdAt: string;
  linkExpiresAt: string;
  sessionSeconds: number;
  startedAt: string | null;
  startedAddress: string | null;
  expiresAt: string | null;
  endedAt: string | null;
}

export interface CreatedLink {
  id: string;
  role: DashboardRole;
  /** The one-time token (shown once; stored only as a hash). */
  token: string;
  linkExpiresAt: string;
  sessionSeconds: number;
}

export interface OpenedSession {
  principal: DashboardPrincipal;
  /** The cookie's value (stored only as a hash). */
  cookieSecret: string;
  csrfToken: string;
}

interface CachedSession {
  principal: DashboardPrincipal | undefined;
  endedAtMs: number | null;
  projectDisabled: boolean;
  until: number;
}

const UNAUTHORIZED_LINK = 'This sign-in link is not valid: it was already used, revoked, has expired, or was never issued. Ask for a new one.';

function view(row: DashboardSessionRow, now: number): DashboardSessionView {
  const ended = row.end_reason === 'revoked' ? 'revoked' : row.end_reason === 'signed_out' ? 'signed_out' : undefined;
  const status =
    ended ??
    (row.session_hash === null
      ? Date.parse(row.link_expires_at) > now
        ? 'pending'
        : 'expired'
      : Date.parse(row.expires_at as string) > now
        ? 'active'
        : 'expired');
  return {
    id: row.id,
    object: 'dashboard_session',
    role: row.role as DashboardRole,
    status,
    createdAt: row.created_at,
    linkExpiresAt: row.link_expires_at,
    sessionSeconds: row.session_seconds,
    startedAt: row.started_at,
    startedAddress: row.started_address,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
  };
}

/**
 * Dashboard sign-in without the secret key: a one-time link (only its hash is stored)
 * that, once opened, starts a session bound to a role, held in a cookie (only its hash
 * is stored). The CSRF token is derived from the cookie's secret, so nothing more is stored.
 */
export class DashboardSessionService {
  private readonly cache = new Map<string, CachedSession>();

  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
    private readonly audit: AuditLog,
  ) {}

  async createLink(projectId: string, options: { role: unknown; sessionSeconds: unknown; linkSeconds?: unknown }, actor: Actor): Promise<CreatedLink> {
    const { role, sessionSeconds } = options;
    const linkSeconds = options.linkSeconds ?? DEFAULT_LINK_SECONDS;
    if (!isDashboardRole(role))
      throw new OrdercastError('validation_failed', 'role must be "viewer" or "operator"', { field: 'role', valid: ['viewer', 'operator'] });
    for (const [field, value, max] of [
      ['expiresIn', sessionSeconds, MAX_SESSION_SECONDS],
      ['linkExpiresIn', linkSeconds, MAX_LINK_SECONDS],
    ] as const) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 60 || value > max) {
        throw new OrdercastError('validation_failed', `${field} must be a whole number of seconds from 60 to ${max}`, { field });
      }
    }
    await this.projects.get(projectId);
    const token = `dl_${randomBase62(40)}`;
    const now = new Date();
    const link = {
      id: newId('dss'),
      project_id: projectId,
      role,
      link_hash: sha256Hex(token),
      link_expires_at: new Date(now.getTime() + (linkSeconds as number) * 1000).toISOString(),
      session_seconds: sessionSeconds as number,
      created_by: encodeActor(actor),
      created_at: now.toISOString(),
    };
    await insertDashboardLink(this.store.db, link);
    await this.audit.record({
      projectId,
      actor,
      action: 'dashboard_link.created',
      target: { type: 'dashboard_session', id: link.id },
      changes: { role, sessionSeconds, linkExpiresAt: link.link_expires_at },
    });
    return { id: link.id, role, token, linkExpiresAt: link.link_expires_at, sessionSeconds: sessionSeconds as number };
  }

  /** Opens a link: a session starts, once; a forged, used, revoked or lapsed link is refused alike. */
  async openLink(token: unknown, address: string | null): Promise<OpenedSession> {
    if (typeof token !== 'string' || !LINK_PATTERN.test(token)) throw new OrdercastError('unauthorized', UNAUTHORIZED_LINK);
    const hash = sha256Hex(token);
    const link = await findDashboardLinkByHash(this.store.db, hash);
    if (!link || !constantTimeEqual(link.link_hash, hash)) throw new OrdercastError('unauthorized', UNAUTHORIZED_LINK);
    const cookieSecret = `ds_${randomBase62(48)}`;
    const startedAt = new Date();
    const expiresAt = new Date(startedAt.getTime() + link.session_seconds * 1000);
    const started = await startDashboardSession(this.store.db, link.id, {
      sessionHash: sha256Hex(cookieSecret),
      startedAt: startedAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      address,
    });
    if (!started) throw new OrdercastError('unauthorized', UNAUTHORIZED_LINK);
    const principal = this.principalOf(link, expiresAt.getTime());
    await this.audit.record({
      projectId: link.project_id,
      actor: { kind: 'dashboard_session', id: link.id, role: principal.role, address },
      action: 'dashboard_session.started',
      target: { type: 'dashboard_session', id: link.id },
      changes: { role: principal.role, expiresAt: expiresAt.toISOString() },
    });
    return { principal, cookieSecret, csrfToken: this.csrfTokenFor(cookieSecret) };
  }

  /** The CSRF token of a session: derived from its cookie's secret, which a page on another origin cannot read. */
  csrfTokenFor(cookieSecret: string): string {
    return sha256Base64url(`ordercast-csrf:${cookieSecret}`);
  }

  /** Checks a session cookie; synchronous when cached, as keys are on the hot path. */
  authenticate(cookieSecret: string): DashboardPrincipal | Promise<DashboardPrincipal> {
    if (!SESSION_PATTERN.test(cookieSecret)) throw new OrdercastError('unauthorized', 'The dashboard session is not valid: sign in again');
    const hash = sha256Hex(cookieSecret);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until >= now) return check(cached, now);
    return findDashboardSessionByHash(this.store.db, hash).then((row) => {
      const fresh: CachedSession = {
        principal: row?.session_hash && constantTimeEqual(row.session_hash, hash) ? this.principalOf(row, Date.parse(row.expires_at as string)) : undefined,
        endedAtMs: row?.ended_at ? Date.parse(row.ended_at) : null,
        projectDisabled: row?.project_disabled_at != null,
        until: now + SESSION_CACHE_MS,
      };
      if (this.cache.size >= SESSION_CACHE_SIZE) this.cache.clear();
      this.cache.set(hash, fresh);
      return check(fresh, now);
    });
  }

  async signOut(principal: DashboardPrincipal, address: string | null): Promise<void> {
    await this.end(principal.projectId, principal.sessionId, 'signed_out', {
      kind: 'dashboard_session',
      id: principal.sessionId,
      role: principal.role,
      address,
    });
  }

  async revoke(projectId: string, id: string, actor: Actor): Promise<DashboardSessionView> {
    await this.end(projectId, id, 'revoked', actor);
    return (await this.get(projectId, id)) as DashboardSessionView;
  }

  async get(projectId: string, id: string): Promise<DashboardSessionView> {
    const row = await findDashboardSession(this.store.db, projectId, id);
    if (!row) throw new OrdercastError('dashboard_session_not_found', `No dashboard session ${id} in this project`, { id });
    return view(row, Date.now());
  }

  async list(projectId: string, limit = 100): Promise<DashboardSessionView[]> {
    const now = Date.now();
    return (await listDashboardSessions(this.store.db, projectId, limit)).map((row) => view(row, now));
  }

  private async end(projectId: string, id: string, reason: 'signed_out' | 'revoked', actor: Actor): Promise<void> {
    const existing = await findDashboardSession(this.store.db, projectId, id);
    if (!existing) throw new OrdercastError('dashboard_session_not_found', `No dashboard session ${id} in this project`, { id });
    const ended = await endDashboardSession(this.store.db, projectId, id, reason, new Date().toISOString());
    // This process stops admitting it at once; others within SESSION_CACHE_MS, like a revoked key.
    for (const [hash, entry] of this.cache) if (entry.principal?.sessionId === id) this.cache.delete(hash);
    if (ended) {
      await this.audit.record({
        projectId,
        actor,
        action: reason === 'revoked' ? 'dashboard_session.revoked' : 'dashboard_session.signed_out',
        target: { type: 'dashboard_session', id },
        changes: { status: reason },
      });
    }
  }

  private principalOf(row: DashboardSessionRow, expiresAtMs: number): DashboardPrincipal {
    const role = row.role as DashboardRole;
    return { kind: 'dashboard', projectId: row.project_id, sessionId: row.id, role, permissions: dashboardPermissions(role), expiresAtMs };
  }
}

function check(entry: CachedSession, now: number): DashboardPrincipal {
  if (!entry.principal) throw new OrdercastError('unauthorized', 'The dashboard session is not valid: sign in again');
  if (entry.endedAtMs !== null) throw new OrdercastError('unauthorized', 'The dashboard session has ended (signed out or revoked): sign in again');
  if (entry.projectDisabled) throw new OrdercastError('project_disabled', 'This project has been disabled: its dashboard sessions no longer work');
  if (entry.principal.expiresAtMs <= now) throw new OrdercastError('unauthorized', 'The dashboard session has expired: ask for a new sign-in link');
  return entry.principal;
}
