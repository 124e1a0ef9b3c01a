import { OrdercastError } from '../../domain/errors.js';
import type { OrderEvent } from '../../domain/order.js';
import type { AuthService } from '../../services/auth-service.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import { topics, type ChannelHub, type HubListener } from '../channel-hub.js';

export interface ChannelOwner {
  projectId: string;
  userExternalId: string;
}

export interface ChannelPosition {
  offset: number;
  epoch: string;
}

/**
 * Everything a Centrifuge session needs from the rest of the server, behind one
 * narrow interface: who the user is, where their channel stands, its history
 * (the event log) and its live events (the hub). The session never sees storage.
 */
export interface UserChannels {
  authenticate(data: unknown): Promise<ChannelOwner>;
  channelName(owner: ChannelOwner): string;
  position(owner: ChannelOwner): Promise<ChannelPosition>;
  /** Events after `from` (or before it when `reverse`), by offset. */
  read(owner: ChannelOwner, query: { from?: number; reverse?: boolean; limit: number }): Promise<OrderEvent[]>;
  watch(owner: ChannelOwner, listener: HubListener): () => void;
}

/** Every user has one channel per project, carrying their orders' status changes. */
export function userChannelName(owner: ChannelOwner): string {
  return `orders:${owner.projectId}:${owner.userExternalId}`;
}

export class LogBackedUserChannels implements UserChannels {
  constructor(
    private readonly auth: AuthService,
    private readonly reader: EventLogReader,
    private readonly hub: ChannelHub,
  ) {}

  /** Reference 003 sends `data: { user_external_id, auth: <user JWT>, project_id }`. */
  async authenticate(data: unknown): Promise<ChannelOwner> {
    const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const { auth, user_external_id: userExternalId, project_id: projectId } = fields;
    if (typeof auth !== 'string' || auth === '') {
      throw new OrdercastError('unauthorized', 'connect data.auth must be a user token (JWT)');
    }
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
      throw new OrdercastError('forbidden', "user_external_id does not match the user token: a user reads only their own channel");
    }
    return { projectId: user.projectId, userExternalId: user.userExternalId };
  }

  channelName(owner: ChannelOwner): string {
    return userChannelName(owner);
  }

  position(owner: ChannelOwner): Promise<ChannelPosition> {
    return this.reader.userChannelPosition(owner.projectId, owner.userExternalId);
  }

  read(owner: ChannelOwner, query: { from?: number; reverse?: boolean; limit: number }): Promise<OrderEvent[]> {
    return this.reader.userChannel({ projectId: owner.projectId, userExternalId: owner.userExternalId, ...query });
  }

  watch(owner: ChannelOwner, listener: HubListener): () => void {
    return this.hub.subscribe(topics.user(owner.projectId, owner.userExternalId), listener);
  }
}
