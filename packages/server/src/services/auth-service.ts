import { errors as joseErrors, decodeJwt, jwtVerify, SignJWT } from 'jose';
import { OrdercastError } from '../domain/errors.js';
import type { Store } from '../store/database.js';
import { findApiKeyByHash, type ApiKeyRecord } from '../store/repositories/api-keys.js';
import type { ProjectService } from './project-service.js';
import { constantTimeEqual, sha256Hex } from './random.js';

/** Who is calling, once their credential has been checked. */
export type Principal =
  | { kind: 'secret'; projectId: string; keyId: string }
  | { kind: 'publishable'; projectId: string; keyId: string }
  | { kind: 'user'; projectId: string; userExternalId: string; expiresAt: number };

export const MAX_USER_TOKEN_SECONDS = 7 * 24 * 3600;
const KEY_CACHE_MS = 5_000;
const USER_ID_PATTERN = /^[^\s]{1,255}$/;

export function assertUserExternalId(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !USER_ID_PATTERN.test(value)) {
    throw new OrdercastError('validation_failed', 'userExternalId must be 1 to 255 characters without spaces', { field: 'userExternalId' });
  }
}

/** A key lookup as cached: what the key grants, or undefined for an unknown key. */
interface CachedKey {
  record: ApiKeyRecord | undefined;
  principal: Principal | undefined;
  expiresAtMs: number | null;
  until: number;
}

export class AuthService {
  /** Key lookups are cached briefly: a rotated key stops working within KEY_CACHE_MS. */
  private readonly keyCache = new Map<string, CachedKey>();

  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
  ) {}

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
    if (credential.startsWith('sk_') || credential.startsWith('pk_')) return this.authenticateKey(credential);
    if (credential.split('.').length === 3) return this.verifyUserToken(credential);
    throw new OrdercastError('unauthorized', 'Unrecognised credential: expected an sk_/pk_ key or a user token (JWT)');
  }

  private authenticateKey(key: string): Principal | Promise<Principal> {
    const hash = sha256Hex(key);
    const now = Date.now();
    const entry = this.keyCache.get(hash);
    if (entry && entry.until >= now) return this.checkKey(entry, hash, now);
    return findApiKeyByHash(this.store.db, hash).then((record) => {
      const fresh: CachedKey = {
        record,
        principal: record && { kind: record.kind, projectId: record.projectId, keyId: record.id },
        expiresAtMs: record?.expiresAt ? Date.parse(record.expiresAt) : null,
        until: now + KEY_CACHE_MS,
      };
      if (this.keyCache.size > 50_000) this.keyCache.clear();
      this.keyCache.set(hash, fresh);
      return this.checkKey(fresh, hash, now);
    });
  }

  private checkKey(entry: CachedKey, hash: string, now: number): Principal {
    if (!entry.record || !entry.principal || !constantTimeEqual(entry.record.keyHash, hash)) throw new OrdercastError('unauthorized', 'Invalid API key');
    if (entry.expiresAtMs !== null && entry.expiresAtMs <= now) {
      throw new OrdercastError('unauthorized', 'This API key has been rotated and is no longer valid');
    }
    return entry.principal;
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
    let project;
    try {
      project = await this.projects.get(projectId);
    } catch {
      throw new OrdercastError('invalid_token', 'The user token names an unknown project');
    }
    try {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(project.tokenSecret), { algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new OrdercastError('invalid_token', 'The user token has no "sub" (userExternalId) claim');
      if (typeof payload.exp !== 'number') throw new OrdercastError('invalid_token', 'The user token has no "exp" claim: user tokens must expire');
      return { kind: 'user', projectId, userExternalId: payload.sub, expiresAt: payload.exp };
    } catch (error) {
      if (error instanceof OrdercastError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new OrdercastError('token_expired', 'The user token has expired: ask the merchant backend for a new one');
      throw new OrdercastError('invalid_token', 'The user token signature or claims are invalid');
    }
  }

  async issueUserToken(projectId: string, userExternalId: string, expiresInSeconds = 3600): Promise<{ token: string; expiresAt: string }> {
    assertUserExternalId(userExternalId);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_USER_TOKEN_SECONDS) {
      throw new OrdercastError('validation_failed', `expiresIn must be a whole number of seconds from 1 to ${MAX_USER_TOKEN_SECONDS}`, { field: 'expiresIn' });
    }
    const project = await this.projects.get(projectId);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ pid: projectId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userExternalId)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresInSeconds)
      .sign(new TextEncoder().encode(project.tokenSecret));
    return { token, expiresAt: new Date((now + expiresInSeconds) * 1000).toISOString() };
  }
}
