import type { Executor } from '../transaction.js';

/**
 * Hands out the next gap-free offset of a user's channel. The upsert takes a row
 * lock, so concurrent writers for one user queue up instead of colliding.
 */
export async function nextChannelOffset(db: Executor, projectId: string, userExternalId: string, newEpoch: string): Promise<number> {
  const row = await db
    .insertInto('channel_offsets')
    .values({ project_id: projectId, user_external_id: userExternalId, last_offset: 1, epoch: newEpoch })
    .onConflict((oc) =>
      oc.columns(['project_id', 'user_external_id']).doUpdateSet((eb) => ({ last_offset: eb('channel_offsets.last_offset', '+', 1) })),
    )
    .returning('last_offset')
    .executeTakeFirstOrThrow();
  return Number(row.last_offset);
}

export async function findChannelPosition(
  db: Executor,
  projectId: string,
  userExternalId: string,
): Promise<{ offset: number; epoch: string } | undefined> {
  const row = await db
    .selectFrom('channel_offsets')
    .select(['last_offset', 'epoch'])
    .where('project_id', '=', projectId)
    .where('user_external_id', '=', userExternalId)
    .executeTakeFirst();
  return row ? { offset: Number(row.last_offset), epoch: row.epoch } : undefined;
}
