import { errors as joseErrors, decodeJwt, jwtVerify, SignJWT } from 'jose';
import { OrdercastError } from '../domain/errors.js';
import type { Store } from '../store/database.js';
import type { Permission } from '../domain/permissions.js';
import { findAdminKeyByHash, type AdminKeyRecord } from '../store/repositories/admin-keys.js';
import { findApiKeyByHash, type ApiKeyLookup } from '../store/repositories/api-keys.js';
import type { DashboardPrincipal } from './dashboard-session-service.js';
import type { ProjectService, TokenSecrets } from './project-service.js';
import { constantTimeEqual } from '../lib/constant-time.js';
import { sha256Hex } from '../lib/hashing.js';

/** Who is calling, once their credential has been checked. */
export type Principal = KeyPrincipal | UserPrincipal | DashboardPrincipal | AdminPrincipal;

/** A project's key. A restricted key (rk_…) is a secret key with `permissions`. */
export interface KeyPrincipal {
  kind: 'secret' | 'publishable';
  projectId: string;
  keyId: string;
  /** When the key stops working (ms since the epoch; a rotation sets it), or null. */
  keyExpiresAtMs: number | null;
  /** What a restricted key may do; null for an unrestricted secret key (and a publishable key, limited by its kind). */
  permissions: readonly Permission[] | null;
}

/** An admin key (ak_…): provisions projects and keys over `/api/v2/admin/`, and reads no project's data. */
export interface AdminPrincipal {
  kind: 'admin';
  keyId: string;
  keyExpiresAtMs: number | null;
}

/** The credentials that act for one project. */
export type ProjectPrincipal = Exclude<Principal, AdminPrincipal>;

export interface UserPrincipal {
  kind: 'user';
  projectId: string;
  userExternalId: string;
  /** The token's `exp` (seconds since the epoch). */
  expiresAt: number;
  /** The id of the token secret that signed it (see ProjectService.tokenSecretId). */
  tokenSecretId: string;
  /** When the token lapses (ms): its `exp`, or earlier, when the grace of the rotated-out secret that signed it ends. */
  lapsesAtMs: number;
}

export const MAX_USER_TOKEN_SECONDS = 7 * 24 * 3600;
const KEY_CACHE_MS = 5_000;
/** Unknown project ids in tokens are remembered this long, so forged tokens cost no query each. */
const UNKNOWN_PROJECT_CACHE_MS = 5_000;
const UNKNOWN_PROJECT_CACHE_SIZE = 10_000;
/** Project ids are `prj_` and 24 characters; anything much longer is not one, and is not looked up or cached. */
const MAX_PROJECT_ID_LENGTH = 64;
const USER_ID_PATTERN = /^[^\s]{1,255}$/;

export function assertUserExternalId(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !USER_ID_PATTERN.test(value)) {
    throw new OrdercastError('validation_failed', 'userExternalId must be 1 to 255 characters without spaces', { field: 'userExternalId' });
  }
}

/** A key lookup as cached: what the key grants, or undefined for an unknown key. */
interface CachedKey {
  keyHash: string | undefined;
  principal: KeyPrincipal | AdminPrincipal | undefined;
  expiresAtMs: number | null;
  projectDisabled: boolean;
  until: number;
}

/** What a stored key (a project's or an admin key) carries that authentication reads. */
interface StoredKey {
  keyHash: string;
  expiresAt: string | null;
}

/** Who a found key makes the caller, and whether its project is disabled. */
interface KeyGrant {
  principal: KeyPrincipal | AdminPrincipal;
  projectDisabled: boolean;
}

function grantOfApiKey(record: ApiKeyLookup, keyExpiresAtMs: number | null): KeyGrant {
  return {
    principal: {
      kind: record.kind === 'publishable' ? 'publishable' : 'secret',
      projectId: record.projectId,
      keyId: record.id,
      keyExpiresAtMs,
      permissions: record.kind === 'restricted' ? (record.permissions ?? []) : null,
    },
    projectDisabled: record.projectDisabledAt != null,
  };
}

function grantOfAdminKey(record: AdminKeyRecord, keyExpiresAtMs: number | null): KeyGrant {
  return { principal: { kind: 'admin', keyId: record.id, keyExpiresAtMs }, projectDisabled: false };
}

export class AuthService {
  /** Key lookups are cached briefly: a rotated key stops working within KEY_CACHE_MS. */
  private readonly keyCache = new Map<string, CachedKey>();
  /** Project ids that tokens named and that do not exist, until when (a bounded LRU). */
  private readonly unknownProjects = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
  ) {
    // A project disabled in this process stops its keys here at once (other processes: within KEY_CACHE_MS).
    projects.onAccessChange(() => this.keyCache.clear());
  }

  /**
   * Checks an `Authorization` header value. A key found in the cache is checked
   * synchronously, so the polling hot path costs no promise.
   */
  authenticateHeader(header: string | undefined): Principal | Promise<Principal> {
    if (!header) {
      throw new OrdercastError('unauthorized', 'Missing credentials: send "Authorization: Bearer <secret key>" or a user token');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new OrdercastError('unauthorized', 'Malformed Authorization header: expected "Bearer <credential>"');
    return this.authenticateNow(match[1] as string);
  }

  /** Checks a secret key, a publishable key, or a user JWT. */
  async authenticate(credential: string): Promise<Principal> {
    return this.authenticateNow(credential);
  }

  private authenticateNow(credential: string): Principal | Promise<Principal> {
    if (credential.startsWith('sk_') || credential.startsWith('pk_') || credential.startsWith('rk_')) return this.authenticateKey(credential);
    if (credential.startsWith('ak_')) return this.authenticateAdminKey(credential);
    if (credential.split('.').length === 3) return this.verifyUserToken(credential);
    if (credential.startsWith('olt_')) {
      throw new OrdercastError('unauthorized', 'An order link token (olt_…) opens only its own page under /o/; it is never an API credential');
    }
    throw new OrdercastError('unauthorized', 'Unrecognised credential: expected an sk_/rk_/pk_ key, an ak_ admin key or a user token (JWT)');
  }

  private authenticateKey(key: string): Principal | Promise<Principal> {
    return this.authenticateHashed(key, findApiKeyByHash, grantOfApiKey);
  }

  private authenticateAdminKey(key: string): Principal | Promise<Principal> {
    return this.authenticateHashed(key, findAdminKeyByHash, grantOfAdminKey);
  }

  /** A key of either table: from the cache without a promise, else found by its hash and cached for KEY_CACHE_MS. */
  private authenticateHashed<K extends StoredKey>(
    key: string,
    find: (db: Store['db'], hash: string) => Promise<K | undefined>,
    grantOf: (record: K, keyExpiresAtMs: number | null) => KeyGrant,
  ): Principal | Promise<Principal> {
    const hash = sha256Hex(key);
    const now = Date.now();
    const entry = this.keyCache.get(hash);
    if (entry && entry.until >= now) return this.checkKey(entry, hash, now);
    return find(this.store.db, hash).then((record) => {
      const expiresAtMs = record?.expiresAt ? Date.parse(record.expiresAt) : null;
      const grant = record && grantOf(record, expiresAtMs);
      return this.remember(
        hash,
        { keyHash: record?.keyHash, principal: grant?.principal, expiresAtMs, projectDisabled: grant?.projectDisabled ?? false, until: now + KEY_CACHE_MS },
        now,
      );
    });
  }

  private remember(hash: string, entry: CachedKey, now: number): Principal {
    if (this.keyCache.size > 50_000) this.keyCache.clear();
    this.keyCache.set(hash, entry);
    return this.checkKey(entry, hash, now);
  }

  private checkKey(entry: CachedKey, hash: string, now: number): Principal {
    if (!entry.keyHash || !entry.principal || !constantTimeEqual(entry.keyHash, hash)) throw new OrdercastError('unauthorized', 'Invalid API key');
    if (entry.expiresAtMs !== null && entry.expiresAtMs <= now) {
      throw new OrdercastError('unauthorized', 'This API key has been rotated or revoked and is no longer valid');
    }
    if (entry.projectDisabled)
      throw new OrdercastError('project_disabled', 'This project is disabled: its keys and tokens do not work until it is enabled again');
    return entry.principal;
  }

  /** Forgets cached key look-ups, so a change made in this process (a revocation) applies at once here. */
  forgetCachedKeys(): void {
    this.keyCache.clear();
  }

  /**
   * Verifies a user token (HS256, signed with the project's token secret).
   * `expectedProjectId` is the project the caller says it belongs to, for tokens
   * signed by a merchant without a `pid` claim.
   */
  async verifyUserToken(token: string, expectedProjectId?: string): Promise<Principal & { kind: 'user' }> {
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(token);
    } catch {
      throw new OrdercastError('invalid_token', 'The user token is not a well-formed JWT');
    }
    const claimedProject = typeof claims.pid === 'string' ? claims.pid : undefined;
    if (claimedProject && expectedProjectId && claimedProject !== expectedProjectId) {
      throw new OrdercastError('invalid_token', `The user token belongs to another project than ${expectedProjectId}`);
    }
    const projectId = claimedProject ?? expectedProjectId;
    if (!projectId) throw new OrdercastError('invalid_token', 'The user token has no "pid" (project id) claim');
    if (projectId.length > MAX_PROJECT_ID_LENGTH) throw new OrdercastError('invalid_token', 'The user token names an unknown project');
    const secrets = await this.tokenSecretsOf(projectId);
    const now = Date.now();
    const current = await verifyWith(token, secrets.current.secret);
    if (current.outcome !== 'bad_signature') return userPrincipal(current, projectId, secrets.current.id, Infinity);
    if (secrets.previous) {
      const previous = await verifyWith(token, secrets.previous.secret);
      if (previous.outcome !== 'bad_signature') {
        if (secrets.previous.expiresAtMs <= now) {
          throw new OrdercastError(
            'token_expired',
            'The user token was signed with a token secret that has been rotated out: ask the merchant backend for a new one',
          );
        }
        return userPrincipal(previous, projectId, secrets.previous.id, secrets.previous.expiresAtMs);
      }
    }
    throw new OrdercastError('invalid_token', 'The user token signature or claims are invalid');
  }

  /** A project's token secrets; unknown projects are answered from a short negative cache. */
  private async tokenSecretsOf(projectId: string): Promise<TokenSecrets> {
    const unknownUntil = this.unknownProjects.get(projectId);
    if (unknownUntil !== undefined) {
      if (unknownUntil >= Date.now()) throw new OrdercastError('invalid_token', 'The user token names an unknown project');
      this.unknownProjects.delete(projectId);
    }
    try {
      return await this.projects.tokenSecrets(projectId);
    } catch (error) {
      if (!(error instanceof OrdercastError) || error.code !== 'project_not_found') throw error;
      if (this.unknownProjects.size >= UNKNOWN_PROJECT_CACHE_SIZE) this.unknownProjects.delete(this.unknownProjects.keys().next().value as string);
      this.unknownProjects.set(projectId, Date.now() + UNKNOWN_PROJECT_CACHE_MS);
      throw new OrdercastError('invalid_token', 'The user token names an unknown project');
    }
  }

  /** How many unknown project ids are remembered (bounded). */
  get unknownProjectCacheSize(): number {
    return this.unknownProjects.size;
  }

  async issueUserToken(projectId: string, userExternalId: string, expiresInSeconds = 3600): Promise<{ token: string; expiresAt: string }> {
    assertUserExternalId(userExternalId);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_USER_TOKEN_SECONDS) {
      throw new OrdercastError('validation_failed', `expiresIn must be a whole number of seconds from 1 to ${MAX_USER_TOKEN_SECONDS}`, { field: 'expiresIn' });
    }
    const secrets = await this.projects.tokenSecrets(projectId);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ pid: projectId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userExternalId)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresInSeconds)
      .sign(new TextEncoder().encode(secrets.current.secret));
    return { token, expiresAt: new Date((now + expiresInSeconds) * 1000).toISOString() };
  }
}

type Verified = { outcome: 'valid'; payload: Record<string, unknown> } | { outcome: 'expired' } | { outcome: 'bad_signature' } | { outcome: 'bad_claims' };

/** Checks a token against one secret: whether that secret signed it, and if so whether its claims hold. */
async function verifyWith(token: string, secret: string): Promise<Verified> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
    return { outcome: 'valid', payload };
  } catch (error) {
    // jose checks the signature before the claims, so a claim error means this secret signed it.
    if (error instanceof joseErrors.JWTExpired) return { outcome: 'expired' };
    if (error instanceof joseErrors.JWTClaimValidationFailed) return { outcome: 'bad_claims' };
    return { outcome: 'bad_signature' };
  }
}

function userPrincipal(verified: Verified, projectId: string, tokenSecretId: string, secretLapsesAtMs: number): UserPrincipal {
  if (verified.outcome === 'expired') throw new OrdercastError('token_expired', 'The user token has expired: ask the merchant backend for a new one');
  if (verified.outcome !== 'valid') throw new OrdercastError('invalid_token', 'The user token signature or claims are invalid');
  const { payload } = verified;
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new OrdercastError('invalid_token', 'The user token has no "sub" (userExternalId) claim');
  if (typeof payload.exp !== 'number') throw new OrdercastError('invalid_token', 'The user token has no "exp" claim: user tokens must expire');
  return {
    kind: 'user',
    projectId,
    userExternalId: payload.sub,
    expiresAt: payload.exp,
    tokenSecretId,
    lapsesAtMs: Math.min(payload.exp * 1000, secretLapsesAtMs),
  };
}
