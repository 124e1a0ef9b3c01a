import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrations.js';

describe('SQLite group commit (WriteBatcher)', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-batch-'));
    store = openStore({ dataDir: dir });
    await migrateToLatest(store.db, store.dialect);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insertProject = (id: string) =>
    store.write(async (trx) => {
      await trx.insertInto('projects').values({ id, name: id, lifecycle: '{}', token_secret: 's', created_at: new Date().toISOString() }).execute();
      return id;
    });

  it('commits concurrent writes together, and a failing one changes nothing for the others', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? store.write(async (trx) => {
              await trx.insertInto('projects').values({ id: `half-${i}`, name: 'x', lifecycle: '{}', token_secret: 's', created_at: 'now' }).execute();
              throw new Error(`write ${i} refused`);
            })
          : insertProject(`ok-${i}`),
      ),
    );
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(rejected.map((r) => (r.reason as Error).message).sort()).toEqual(
      Array.from({ length: 10 }, (_, k) => `write ${k * 3} refused`).sort(),
    );
    const ids = (await store.db.selectFrom('projects').select('id').execute()).map((r) => r.id);
    expect(ids.filter((id) => id.startsWith('half-'))).toEqual([]);
    expect(ids.filter((id) => id.startsWith('ok-'))).toHaveLength(20);
  });

  it('resolves a write only once it is committed and readable', async () => {
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const id = await insertProject(`visible-${i}`);
      const row = await store.db.selectFrom('projects').select('id').where('id', '=', id).executeTakeFirst();
      expect(row?.id).toBe(id);
    }));
  });

  it('reports a constraint violation to the one writer that caused it', async () => {
    await insertProject('dup');
    const [a, b] = await Promise.allSettled([insertProject('dup'), insertProject('fresh')]);
    expect(a.status).toBe('rejected');
    expect((a as PromiseRejectedResult).reason.code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(b).toEqual({ status: 'fulfilled', value: 'fresh' });
  });
});
