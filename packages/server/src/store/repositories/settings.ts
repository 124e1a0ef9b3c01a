import type { Executor } from '../transaction.js';

export async function readSetting(db: Executor, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('ordercast_settings').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value;
}
