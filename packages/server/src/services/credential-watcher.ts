import type { ErrorCode } from '../domain/errors.js';
import type { Logger } from '../lib/logging.js';
import type { Store } from '../store/database.js';
import { findApiKeyStates, type ApiKeyState } from '../store/repositories/api-keys.js';
import { findDashboardSessionLapses } from '../store/repositories/dashboard-sessions.js';
import type { ProjectPrincipal } from './auth-service.js';
import type { ProjectService, TokenSecretIds } from './project-service.js';

/** One credential an open connection holds: an API key, or a user token. A connection may hold both. */
export type CredentialPart =
  | { kind: 'key'; keyId: string; expiresAtMs: number | null }
  | { kind: 'token'; projectId: string; tokenSecretId: string; expiresAtMs: number; secretLapsesAtMs: number }
  | { kind: 'session'; sessionId: string; expiresAtMs: number };

/** Why a connection lost access: a stable error code and a message for people. */
export interface LapseReason {
  code: Extract<ErrorCode, 'unauthorized' | 'token_expired' | 'project_disabled'>;
  message: string;
}

export interface CredentialWatch {
  /** When the credential lapses by itself (ms since the epoch), as known now; Infinity for never. */
  readonly lapsesAtMs: number;
  /** Replaces the credential (a token refresh), re-arming the timer. */
  update(parts: CredentialPart[]): void;
  stop(): void;
}

/** The parts of what a principal was authenticated with. */
export function credentialParts(principal: ProjectPrincipal): CredentialPart[] {
  if (principal.kind === 'dashboard') return [{ kind: 'session', sessionId: principal.sessionId, expiresAtMs: principal.expiresAtMs }];
  if (principal.kind === 'user') {
    return [
      {
        kind: 'token',
        projectId: principal.projectId,
        tokenSecretId: principal.tokenSecretId,
        expiresAtMs: principal.expiresAt * 1000,
        secretLapsesAtMs: principal.lapsesAtMs < principal.expiresAt * 1000 ? principal.lapsesAtMs : Infinity,
      },
    ];
  }
  return [{ kind: 'key', keyId: principal.keyId, expiresAtMs: principal.keyExpiresAtMs }];
}

const REASONS = {
  keyExpired: { code: 'unauthorized', message: 'This API key has been rotated or revoked and is no longer valid' },
  keyGone: { code: 'unauthorized', message: 'This API key no longer exists' },
  sessionEnded: { code: 'unauthorized', message: 'The dashboard session has ended (signed out, revoked or expired): sign in again' },
  projectDisabled: { code: 'project_disabled', message: 'This project has been disabled: its keys and tokens no longer work' },
  tokenExpired: { code: 'token_expired', message: 'The user token has expired: ask the merchant backend for a new one' },
  secretRotated: {
    code: 'token_expired',
    message: 'The user token was signed with a token secret that has been rotated out: ask the merchant backend for a new one',
  },
} as const satisfies Record<string, LapseReason>;

/** setTimeout takes at most 2^31-1 ms; later deadlines are reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Ids per query of a re-check. */
const CHUNK = 500;

interface Entry {
  parts: CredentialPart[];
  onLapse: (reason: LapseReason) => void;
  timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is set for, so a re-check that changes nothing leaves the timer alone. */
  armedFor: number;
  done: boolean;
}

/**
 * Makes open connections lose access when their credentials do, wherever the
 * change was made. Each connection has one timer, at the moment its credential
 * lapses by itself (a token's `exp`, a rotated key's or secret's end of grace).
 * Every `recheckMs`, the rows behind all open connections' credentials are read
 * again, one query for the keys and one for the projects' token secrets, so a
 * rotation or revocation made by another process (the CLI, another node) is seen
 * within that interval plus the time of the query.
 */
export class CredentialWatcher {
  private readonly entries = new Set<Entry>();
  private recheckTimer: NodeJS.Timeout | undefined;
  private rechecking = false;
  private lastFailureLog = 0;

  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
    private readonly logger: Logger,
    private readonly recheckMs = 2_000,
  ) {
    // A project disabled by this process: its connections here close now, not at the next re-check.
    projects.onAccessChange(() => void this.recheck());
  }

  get size(): number {
    return this.entries.size;
  }

  watch(parts: CredentialPart[], onLapse: (reason: LapseReason) => void): CredentialWatch {
    const entry: Entry = { parts, onLapse, timer: undefined, armedFor: NaN, done: false };
    this.entries.add(entry);
    this.arm(entry);
    this.ensureRechecking();
    const watcher = this;
    return {
      get lapsesAtMs() {
        return deadline(entry.parts).at;
      },
      update(next) {
        if (entry.done) return;
        entry.parts = next;
        watcher.arm(entry);
      },
      stop() {
        watcher.release(entry);
      },
    };
  }

  close(): void {
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    for (const entry of [...this.entries]) this.release(entry);
  }

  private release(entry: Entry): void {
    entry.done = true;
    clearTimeout(entry.timer);
    this.entries.delete(entry);
  }

  private lapse(entry: Entry, reason: LapseReason): void {
    if (entry.done) return;
    this.release(entry);
    try {
      entry.onLapse(reason);
    } catch (error) {
      this.logger.error({ err: error }, 'closing a connection whose credential lapsed failed');
    }
  }

  private arm(entry: Entry, force = false): void {
    const { at, reason } = deadline(entry.parts);
    if (!force && at === entry.armedFor) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.armedFor = at;
    if (at === Infinity) return;
    const delay = at - Date.now();
    if (delay <= 0) return this.lapse(entry, reason);
    entry.timer = setTimeout(() => this.arm(entry, true), Math.min(delay, MAX_TIMER_MS));
    entry.timer.unref();
  }

  private ensureRechecking(): void {
    if (this.recheckTimer || this.entries.size === 0) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.recheck().finally(() => this.ensureRechecking());
    }, this.recheckMs);
    this.recheckTimer.unref();
  }

  /** Reads the rows behind every open connection's credential again. */
  async recheck(): Promise<void> {
    if (this.rechecking || this.entries.size === 0) return;
    this.rechecking = true;
    try {
      const keyIds = new Set<string>();
      const projectIds = new Set<string>();
      const sessionIds = new Set<string>();
      for (const entry of this.entries) {
        for (const part of entry.parts) {
          if (part.kind === 'key') keyIds.add(part.keyId);
          else if (part.kind === 'session') sessionIds.add(part.sessionId);
          else projectIds.add(part.projectId);
        }
      }
      const sessions = new Map<string, { expiresAt: string | null; endedAt: string | null; projectDisabled: boolean }>();
      for (const ids of chunks([...sessionIds])) for (const [id, value] of await findDashboardSessionLapses(this.store.db, ids)) sessions.set(id, value);
      const keys = new Map<string, ApiKeyState>();
      for (const ids of chunks([...keyIds])) for (const [id, state] of await findApiKeyStates(this.store.db, ids)) keys.set(id, state);
      const secrets = new Map<string, TokenSecretIds>();
      for (const ids of chunks([...projectIds])) for (const [id, value] of await this.projects.currentTokenSecretIds(ids)) secrets.set(id, value);
      for (const entry of [...this.entries]) {
        let gone: LapseReason | undefined;
        const parts = entry.parts.map((part): CredentialPart => {
          if (part.kind === 'key') {
            const state = keys.get(part.keyId);
            if (!state) gone ??= REASONS.keyGone;
            else if (state.projectDisabled) gone ??= REASONS.projectDisabled;
            return { ...part, expiresAtMs: state?.expiresAt ? Date.parse(state.expiresAt) : null };
          }
          if (part.kind === 'session') {
            const session = sessions.get(part.sessionId);
            if (!session || session.endedAt) gone ??= REASONS.sessionEnded;
            else if (session.projectDisabled) gone ??= REASONS.projectDisabled;
            return part;
          }
          const ids = secrets.get(part.projectId);
          if (ids?.disabled) {
            gone ??= REASONS.projectDisabled;
            return part;
          }
          if (ids?.currentId === part.tokenSecretId) return { ...part, secretLapsesAtMs: Infinity };
          if (ids?.previousId === part.tokenSecretId && ids.previousExpiresAtMs !== undefined) return { ...part, secretLapsesAtMs: ids.previousExpiresAtMs };
          gone ??= REASONS.secretRotated;
          return part;
        });
        if (gone) {
          this.lapse(entry, gone);
        } else if (!entry.done) {
          entry.parts = parts;
          this.arm(entry);
        }
      }
    } catch (error) {
      // The timers still apply; a database that cannot be read is not a reason to cut everyone off.
      if (Date.now() - this.lastFailureLog > 60_000) {
        this.lastFailureLog = Date.now();
        this.logger.warn({ err: error }, 'could not re-check the credentials of open connections; trying again');
      }
    } finally {
      this.rechecking = false;
    }
  }
}

function deadline(parts: CredentialPart[]): { at: number; reason: LapseReason } {
  let best: { at: number; reason: LapseReason } = { at: Infinity, reason: REASONS.tokenExpired };
  for (const part of parts) {
    if (part.kind === 'key') {
      if (part.expiresAtMs !== null && part.expiresAtMs < best.at) best = { at: part.expiresAtMs, reason: REASONS.keyExpired };
      continue;
    }
    if (part.kind === 'session') {
      if (part.expiresAtMs < best.at) best = { at: part.expiresAtMs, reason: REASONS.sessionEnded };
      continue;
    }
    if (part.expiresAtMs < best.at) best = { at: part.expiresAtMs, reason: REASONS.tokenExpired };
    if (part.secretLapsesAtMs < best.at) best = { at: part.secretLapsesAtMs, reason: REASONS.secretRotated };
  }
  return best;
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
