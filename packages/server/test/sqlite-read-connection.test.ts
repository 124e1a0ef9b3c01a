import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeLifecycle } from '../src/domain/lifecycle-presets.js';
import { openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrations.js';
import type { AppendCommand } from '../src/store/order-log.js';

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
    await store.db.insertInto('projects').values({ id: 'prj_a', name: 'a', lifecycle: '{}', token_secret: 's', created_at: now }).execute();
  });
  afterAll(async () => {
    await otherProcess.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newOrder = { externalId: null, userExternalId: null, amount: null, currency: null, metadata: {}, status: undefined };
  const insertOrder = async (target: Store, id: string) => {
    const outcome = await target.orderLog.append(
      { kind: 'create', projectId: 'prj_a', lifecycle: storeLifecycle, order: newOrder },
      { orderId: id, eventId: `evt_${id}` },
    );
    expect(outcome.kind).toBe('appended');
  };
  const move = (target: Store, id: string, status: string) => {
    const command: AppendCommand = { kind: 'transition', projectId: 'prj_a', lifecycle: storeLifecycle, orderId: id, change: { status, reason: null } };
    return target.orderLog.append(command, { orderId: id, eventId: `evt_${id}_${status}` });
  };

  it('sees a commit as soon as the append resolves, and nothing of a refused one', async () => {
    expect(await store.readOrderRow('prj_a', 'ord_1')).toBeUndefined();
    await insertOrder(store, 'ord_1');
    expect((await store.readOrderRow('prj_a', 'ord_1'))?.status).toBe('new');
    expect((await move(store, 'ord_1', 'done')).kind).toBe('refused');
    expect(await store.readOrderRow('prj_a', 'ord_1')).toMatchObject({ status: 'new', version: 1 });
  });

  it("sees another process's commits on the same file at once, and keeps projects apart", async () => {
    await insertOrder(otherProcess, 'ord_2');
    expect((await store.readOrderRow('prj_a', 'ord_2'))?.id).toBe('ord_2');
    expect((await move(otherProcess, 'ord_2', 'paid')).kind).toBe('appended');
    expect(await store.readOrderRow('prj_a', 'ord_2')).toMatchObject({ status: 'paid', version: 2 });
    expect(await store.readOrderRow('prj_other', 'ord_2')).toBeUndefined();
  });

  it('works on an in-memory database too (one connection there)', async () => {
    const memory = openStore({ dataDir: dir, databaseUrl: 'sqlite::memory:' });
    await migrateToLatest(memory.db, memory.dialect);
    await memory.db.insertInto('projects').values({ id: 'prj_a', name: 'a', lifecycle: '{}', token_secret: 's', created_at: now }).execute();
    await insertOrder(memory, 'ord_m');
    expect((await memory.readOrderRow('prj_a', 'ord_m'))?.id).toBe('ord_m');
    await memory.close();
  });
});
