import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLifecycle } from '../src/domain/lifecycle.js';
import { openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrations.js';
import type { AppendOutcome, AppendRequest } from '../src/store/order-log.js';
import type { PostgresGroupCommitLog } from '../src/store/postgres-group-commit.js';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';

// Group commit on PostgreSQL, seen from two servers writing to one database: their
// batches race for the same orders and the same user channel. Whatever the interleaving,
// each order's versions and the user's offsets have no gap and no duplicate, and every
// answer matches the log.

const triangle = parseLifecycle({
  name: 'triangle',
  statuses: ['a', 'b', 'c', 'done'],
  initial: ['a'],
  final: ['done'],
  transitions: { a: ['b', 'c', 'done'], b: ['a', 'c'], c: ['a', 'b'] },
});

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.skipIf(!databaseUrlForTests())('group commit on PostgreSQL', () => {
  it('keeps versions and user offsets gapless when two servers race for the same orders, and answers each command as the log says', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-group-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const stores: Store[] = [openStore({ databaseUrl: schema.url, dataDir: dir }), openStore({ databaseUrl: schema.url, dataDir: dir })];
    cleanups.push(() => Promise.all(stores.map((s) => s.close())));
    await migrateToLatest(stores[0]!.db, 'postgres');
    await stores[0]!.db
      .insertInto('projects')
      .values({ id: 'prj_g', name: 'g', lifecycle: '{}', token_secret: 's', created_at: new Date().toISOString() })
      .execute();

    const orderIds = Array.from({ length: 4 }, (_, i) => `ord_g${i}`);
    const newOrder = { externalId: null, userExternalId: 'shared-user', amount: null, currency: null, metadata: {}, status: undefined };
    const created = await stores[0]!.orderLog.appendMany(
      orderIds.map((id) => ({
        command: { kind: 'create', projectId: 'prj_g', lifecycle: triangle, order: newOrder },
        ids: { orderId: id, eventId: `evt_${id}` },
      })),
    );
    expect(created.every((r) => r.ok && r.outcome.kind === 'appended')).toBe(true);

    // Each server sends rounds of commands, single and in units, for the same four orders.
    const outcomes: AppendOutcome[] = [];
    const errors: unknown[] = [];
    let n = 0;
    const transition = (orderId: string): AppendRequest => {
      n++;
      return {
        command: { kind: 'transition', projectId: 'prj_g', lifecycle: triangle, orderId, change: { status: ['a', 'b', 'c'][n % 3]!, reason: null } },
        ids: { orderId, eventId: `evt_t${n}` },
      };
    };
    const writer = async (store: Store) => {
      for (let round = 0; round < 25; round++) {
        const singles = orderIds.map((id) => {
          const { command, ids } = transition(id);
          return store.orderLog.append(command, ids);
        });
        const unit = store.orderLog.appendMany(orderIds.flatMap((id) => [transition(id), transition(id)]));
        const settled = await Promise.allSettled([...singles, unit]);
        for (const s of settled) {
          if (s.status === 'rejected') errors.push(s.reason);
          else if (Array.isArray(s.value)) for (const r of s.value) r.ok ? outcomes.push(r.outcome) : errors.push(r.error);
          else outcomes.push(s.value);
        }
      }
    };
    await Promise.all(stores.map(writer));

    expect(errors).toEqual([]);
    const appended = outcomes.filter((o) => o.kind === 'appended');
    const refused = outcomes.filter((o) => o.kind === 'refused');
    // The only refusals are moves to the status an order is already in; no change was lost to a race.
    expect(refused.every((o) => o.kind === 'refused' && o.refusal.code === 'invalid_transition')).toBe(true);
    expect(appended.length + refused.length).toBe(outcomes.length);
    expect(appended.length).toBeGreaterThan(100);

    const events = await stores[0]!.db.selectFrom('order_events').select(['id', 'order_id', 'version', 'user_offset', 'to_status']).orderBy('seq').execute();
    expect(events).toHaveLength(appended.length + orderIds.length);
    for (const id of orderIds) {
      const versions = events.filter((e) => e.order_id === id).map((e) => e.version);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
    const offsets = events.map((e) => e.user_offset).sort((a, b) => a! - b!);
    expect(offsets).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    // Each answer is what the log holds under its event id.
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const o of appended) {
      if (o.kind !== 'appended') continue;
      expect(byId.get(o.event.id)).toMatchObject({
        order_id: o.event.orderId,
        version: o.event.version,
        user_offset: o.event.userOffset,
        to_status: o.event.toStatus,
      });
    }
    // Commands shared transactions, and no batch had to be sent through the one-command path.
    const logs = stores.map((s) => s.orderLog as PostgresGroupCommitLog);
    expect(logs.reduce((sum, log) => sum + log.committedTransactions, 0)).toBeLessThan(outcomes.length / 2);
    expect(logs.map((log) => log.isolatedReruns)).toEqual([0, 0]);
    // And the races this test is about did happen: batches lost orders to the other server and decided them again.
    expect(logs.reduce((sum, log) => sum + log.racesLost, 0)).toBeGreaterThan(0);
  }, 60_000);

  it('writes other orders while a batch waits for a row another session has locked: one locked order holds up only its own writes', async () => {
    const schema = await createPostgresSchema();
    cleanups.push(() => schema.drop());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-group-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // Its own application_name, to find its backends among other tests'.
    const appName = `ordercast_group_${process.pid}_${Date.now().toString(36)}`;
    const url = new URL(schema.url);
    url.searchParams.set('application_name', appName);
    const store = openStore({ databaseUrl: url.toString(), dataDir: dir });
    cleanups.push(() => store.close());
    await migrateToLatest(store.db, 'postgres');
    await store.db
      .insertInto('projects')
      .values({ id: 'prj_l', name: 'l', lifecycle: '{}', token_secret: 's', created_at: new Date().toISOString() })
      .execute();
    const newOrder = { externalId: null, userExternalId: null, amount: null, currency: null, metadata: {}, status: undefined };
    for (const id of ['ord_locked', 'ord_free']) {
      await store.orderLog.append({ kind: 'create', projectId: 'prj_l', lifecycle: triangle, order: newOrder }, { orderId: id, eventId: `evt_${id}` });
    }
    const move = (orderId: string, status: string) =>
      store.orderLog.append(
        { kind: 'transition', projectId: 'prj_l', lifecycle: triangle, orderId, change: { status, reason: null } },
        { orderId, eventId: `evt_${orderId}_${status}` },
      );

    const locker = new pg.Client({ connectionString: schema.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('begin');
    await locker.query("select * from orders where id = 'ord_locked' for update");
    let lockedDone = false;
    const locked = move('ord_locked', 'b').then((outcome) => {
      lockedDone = true;
      return outcome;
    });
    // Wait until that batch is stuck on the row lock, then write another order.
    await waitFor(async () => {
      const { rows } = await locker.query("select count(*)::int as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'", [
        appName,
      ]);
      return rows[0].n > 0;
    });
    const free = await move('ord_free', 'b');
    expect(free.kind).toBe('appended');
    expect(lockedDone).toBe(false);
    await locker.query('rollback');
    expect((await locked).kind).toBe('appended');
  }, 60_000);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a batch to wait on the row lock');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
