import type { OrderEvent } from '../../domain/order.js';
import type { HubListener } from '../../events/channel-hub.js';
import type { CredentialPart } from '../../services/credential-watcher.js';
import type { Release } from '../../services/quota-enforcer.js';
import type { ConnectionQuota } from '../connection-quota.js';
import type { AuthenticatedUser, ChannelOwner, ChannelPosition, CredentialWatch, LapseReason, UserChannels } from './user-channels.js';

/**
 * One session's UserChannels that also holds its project's connection slot: the first
 * credential the session proves takes the slot (or refuses the connect with `quota_exceeded`,
 * which the session answers as a temporary error 106), and `end()`, called by the gateway when
 * the transport closes, gives it back. A token refresh on a live connection takes no second slot.
 * The project is only known once the connect command is checked, so the slot cannot be taken earlier.
 */
export class SlotHoldingChannels implements UserChannels {
  private release: Release | undefined;
  private ended = false;

  constructor(
    private readonly inner: UserChannels,
    private readonly quota: ConnectionQuota,
  ) {}

  async authenticate(data: unknown, token?: string): Promise<AuthenticatedUser> {
    const user = await this.inner.authenticate(data, token);
    if (this.release === undefined && !this.ended) {
      this.release = await this.quota.openConnection(user.scope.projectId);
      // The transport closed while the slot was being taken.
      if (this.ended) this.release();
    }
    return user;
  }

  /** The session's transport closed: its slot is free again. */
  end(): void {
    this.ended = true;
    this.release?.();
  }

  watchCredential(credential: CredentialPart[], onLapse: (reason: LapseReason) => void): CredentialWatch {
    return this.inner.watchCredential(credential, onLapse);
  }

  channelName(owner: ChannelOwner): string {
    return this.inner.channelName(owner);
  }

  position(owner: ChannelOwner): Promise<ChannelPosition> {
    return this.inner.position(owner);
  }

  read(owner: ChannelOwner, query: { from?: number; reverse?: boolean; limit: number }): Promise<OrderEvent[]> {
    return this.inner.read(owner, query);
  }

  watch(owner: ChannelOwner, listener: HubListener): () => void {
    return this.inner.watch(owner, listener);
  }
}
