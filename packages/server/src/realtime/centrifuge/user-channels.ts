import { OrdercastError } from '../../domain/errors.js';
import type { OrderEvent } from '../../domain/order.js';
import type { AuthService } from '../../services/auth-service.js';
import { requirePermission } from '../../services/permission-check.js';
import { credentialParts, type CredentialPart, type CredentialWatch, type CredentialWatcher, type LapseReason } from '../../services/credential-watcher.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import { topics, type ChannelHub, type HubListener } from '../../events/channel-hub.js';

/** What a Centrifuge connection may read: a whole project (secret key), or one user's orders in it (user token). */
export interface ConnectionScope {
  projectId: string;
  userExternalId?: string;
}

export interface ChannelOwner {
  projectId: string;
  userExternalId: string;
}

export interface ChannelPosition {
  offset: number;
  epoch: string;
}

/**
 * A connection's checked credential: whose channel it opens (a user token), what it
 * may read, and what lapses when. A secret key opens no user channel: it reads any
 * order of its project through `order:<id>` subscriptions and RPC.
 */
export interface AuthenticatedUser {
  owner?: ChannelOwner;
  scope: ConnectionScope;
  credential: CredentialPart[];
  /** When the token stops granting access (ms since the epoch). */
  lapsesAtMs: number;
}

export type { CredentialWatch, LapseReason };

/** Every user has one channel per project, carrying their orders' status changes. */
export function userChannelName(owner: ChannelOwner): string {
  return `orders:${owner.projectId}:${owner.userExternalId}`;
}

/**
 * Everything a Centrifuge session needs from the rest of the server, behind one
 * narrow class: who the user is, where their channel stands, its history
 * (the event log) and its live events (the hub). The session never sees storage.
 */
export class UserChannels {
  constructor(
    private readonly auth: AuthService,
    private readonly reader: EventLogReader,
    private readonly hub: ChannelHub,
    private readonly credentials: CredentialWatcher,
  ) {}

  /**
   * Checks the user token: the protocol's own `token` field when given (centrifuge-js
   * `token` / `getToken`), else `data.auth` (reference 003 sends `data: { user_external_id,
   * auth: <user JWT>, project_id }`). `data`'s ids, when present, must be the token's.
   */
  async authenticate(data: unknown, token?: string): Promise<AuthenticatedUser> {
    const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const { user_external_id: userExternalId, project_id: projectId } = fields;
    const auth = token ?? fields.auth;
    if (typeof auth !== 'string' || auth === '') {
      throw new OrdercastError('unauthorized', 'connect needs a user token (JWT): the token option (or getToken) of centrifuge-js, or data.auth');
    }
    if (auth.startsWith('sk_') || auth.startsWith('rk_')) return this.authenticateSecretKey(auth, projectId);
    if (projectId !== undefined && (typeof projectId !== 'string' || projectId === '')) {
      throw new OrdercastError('validation_failed', 'connect data.project_id must be a string');
    }
    if (userExternalId !== undefined && (typeof userExternalId !== 'string' || userExternalId === '')) {
      throw new OrdercastError('validation_failed', 'connect data.user_external_id must be a string');
    }
    const user = await this.auth.verifyUserToken(auth, projectId as string | undefined);
    if (projectId !== undefined && user.projectId !== projectId) {
      throw new OrdercastError('invalid_token', 'project_id does not match the user token');
    }
    if (userExternalId !== undefined && user.userExternalId !== userExternalId) {
      throw new OrdercastError('forbidden', 'user_external_id does not match the user token: a user reads only their own channel');
    }
    const owner = { projectId: user.projectId, userExternalId: user.userExternalId };
    return { owner, scope: owner, credential: credentialParts(user), lapsesAtMs: user.lapsesAtMs };
  }

  /** A backend may connect with its secret key (never ship one to a browser): no user channel, every order of the project. */
  private async authenticateSecretKey(key: string, projectId: unknown): Promise<AuthenticatedUser> {
    const principal = await this.auth.authenticate(key);
    if (principal.kind !== 'secret') throw new OrdercastError('unauthorized', 'Invalid API key');
    requirePermission(principal, 'orders:read');
    if (projectId !== undefined && principal.projectId !== projectId) throw new OrdercastError('invalid_token', 'project_id does not match the secret key');
    return {
      scope: { projectId: principal.projectId },
      credential: credentialParts(principal),
      lapsesAtMs: principal.keyExpiresAtMs ?? Number.MAX_SAFE_INTEGER,
    };
  }

  /** Calls `onLapse` when the credential lapses: expiry, or a rotation or revocation anywhere. */
  watchCredential(credential: CredentialPart[], onLapse: (reason: LapseReason) => void): CredentialWatch {
    return this.credentials.watch(credential, onLapse);
  }

  channelName(owner: ChannelOwner): string {
    return userChannelName(owner);
  }

  position(owner: ChannelOwner): Promise<ChannelPosition> {
    return this.reader.userChannelPosition(owner.projectId, owner.userExternalId);
  }

  /** Events after `from` (or before it when `reverse`), by offset. */
  read(owner: ChannelOwner, query: { from?: number; reverse?: boolean; limit: number }): Promise<OrderEvent[]> {
    return this.reader.userChannel({ projectId: owner.projectId, userExternalId: owner.userExternalId, ...query });
  }

  watch(owner: ChannelOwner, listener: HubListener): () => void {
    return this.hub.subscribe(topics.user(owner.projectId, owner.userExternalId), listener);
  }
}
