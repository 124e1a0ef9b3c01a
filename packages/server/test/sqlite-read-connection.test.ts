import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrations.js';

// Polling reads orders on a read connection of its own; it must still see every
// commit at once, whether this process or another one made it.
describe('SQLite order reads on their own connection', () => {
  let dir: string;
  let store: Store;
  let otherProcess: Store;
  const now = new Date().toISOString();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-reader-'));
    store = openStore({ dataDir: dir });
    await migrateToLatest(store.db, store.dialect);
    otherProcess = openStore({ dataDir: dir });
    await store.write((trx) => trx.insertInto('projects').values({ id: 'prj_a', name: 'a', lifecycle: '{}', token_secret: 's', created_at: now }).execute());
  });
  afterAll(async () => {
    await otherProcess.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insertOrder = (target: Store, id: string) =>
    target.write((trx) =>
      trx
        .insertInto('orders')
        .values({ id, project_id: 'prj_a', external_id: null, user_external_id: null, amount: null, currency: null, metadata: '{}', status: 'NEW', version: 1, history: '[]', created_at: now, updated_at: now })
        .execute(),
    );

  it('sees a commit as soon as write() resolves, and nothing of a rolled-back one', async () => {
    expect(await store.readOrderRow('prj_a', 'ord_1')).toBeUndefined();
    await insertOrder(store, 'ord_1');
    expect((await store.readOrderRow('prj_a', 'ord_1'))?.status).toBe('NEW');
    await expect(
      store.write(async (trx) => {
        await trx.updateTable('orders').set({ status: 'GONE', version: 2 }).where('id', '=', 'ord_1').execute();
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await store.readOrderRow('prj_a', 'ord_1'))?.version).toBe(1);
  });

  it("sees another process's commits on the same file at once, and keeps projects apart", async () => {
    await insertOrder(otherProcess, 'ord_2');
    expect((await store.readOrderRow('prj_a', 'ord_2'))?.id).toBe('ord_2');
    await otherProcess.write((trx) => trx.updateTable('orders').set({ status: 'PAID', version: 2 }).where('id', '=', 'ord_2').execute());
    expect(await store.readOrderRow('prj_a', 'ord_2')).toMatchObject({ status: 'PAID', version: 2 });
    expect(await store.readOrderRow('prj_other', 'ord_2')).toBeUndefined();
  });

  it('works on an in-memory database too (one connection there)', async () => {
    const memory = openStore({ dataDir: dir, databaseUrl: 'sqlite::memory:' });
    await migrateToLatest(memory.db, memory.dialect);
    await memory.write((trx) => trx.insertInto('projects').values({ id: 'prj_a', name: 'a', lifecycle: '{}', token_secret: 's', created_at: now }).execute());
    await insertOrder(memory, 'ord_m');
    expect((await memory.readOrderRow('prj_a', 'ord_m'))?.id).toBe('ord_m');
    await memory.close();
  });
});
