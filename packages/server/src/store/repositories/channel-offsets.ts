import { sha256Base64url } from '../../lib/hashing.js';
import type { Executor } from '../transaction.js';

/**
 * The epoch a user channel starts with. It is derived from the channel's name, so
 * a user with no events yet is announced at offset 0 with the same epoch that the
 * first event's row will carry: clients that connected early still recover.
 * A history reset must write a new random epoch into channel_offsets.
 */
export function initialChannelEpoch(projectId: string, userExternalId: string): string {
  return sha256Base64url(`${projectId}\u0000${userExternalId}`).slice(0, 12);
}

export async function findChannelPosition(db: Executor, projectId: string, userExternalId: string): Promise<{ offset: number; epoch: string } | undefined> {
  const row = await db
    .selectFrom('channel_offsets')
    .select(['last_offset', 'epoch'])
    .where('project_id', '=', projectId)
    .where('user_external_id', '=', userExternalId)
    .executeTakeFirst();
  return row ? { offset: Number(row.last_offset), epoch: row.epoch } : undefined;
}

/** The current top of a user channel; a channel without events is at offset 0 with its initial epoch. */
export async function channelPosition(db: Executor, projectId: string, userExternalId: string): Promise<{ offset: number; epoch: string }> {
  return (await findChannelPosition(db, projectId, userExternalId)) ?? { offset: 0, epoch: initialChannelEpoch(projectId, userExternalId) };
}
