import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompiledQuery, sql, type Compilable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLifecycle } from '../src/domain/lifecycle.js';
import { openStore, type Store } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrations.js';
import { countStuckOrders, dueOrdersQuery, findDueOrders, stuckOrdersCountQuery } from '../src/store/repositories/order-deadlines.js';
import { listOrderRows, listOrderRowsQuery } from '../src/store/repositories/orders.js';
import { createPostgresSchema, testDialects } from './helpers/databases.js';

// Migration 0015 keeps on `orders` only the index entries a read needs, since each one costs
// every change of an order: `orders_due` holds only orders with a deadline, `orders_stuck`
// only stuck orders, and on PostgreSQL the primary key is `id` instead of `seq`. The readers
// must still find their rows through the indexes meant for them (a partial index the planner
// cannot prove applies is never used), and answer the same.

const lifecycle = parseLifecycle({
  name: 'lean',
  statuses: ['new', 'paid', 'done'],
  initial: ['new'],
  final: ['done'],
  transitions: { new: ['paid', 'done'], paid: ['done'] },
});

describe.each(testDialects)('the indexes of orders after 0015_lean_writes (%s)', (dialect) => {
  let store: Store;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const project = `prj_lean_${dialect}`;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-lean-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const schema = dialect === 'postgres' ? await createPostgresSchema() : undefined;
    if (schema) cleanups.push(() => schema.drop());
    store = openStore({ databaseUrl: schema?.url, dataDir: dir });
    cleanups.push(() => store.close());
    await migrateToLatest(store.db, dialect);
    await store.db
      .insertInto('projects')
      .values({ id: project, name: 'lean', lifecycle: '{}', token_secret: 's', created_at: new Date().toISOString() })
      .execute();
    // Twelve orders through the write path; then, as the sweeper and the append leave them:
    // four with a deadline (two of them past), three stuck (no deadline any more), the rest neither.
    const created = await store.orderLog.appendMany(
      Array.from({ length: 12 }, (_, i) => ({
        command: {
          kind: 'create' as const,
          projectId: project,
          lifecycle,
          order: { externalId: `lean-${i}`, userExternalId: null, amount: null, currency: null, metadata: {}, status: undefined },
        },
        ids: { orderId: `ord_lean_${dialect}_${i}`, eventId: `evt_lean_${dialect}_${i}` },
      })),
    );
    expect(created.every((r) => r.ok && r.outcome.kind === 'appended')).toBe(true);
    const id = (i: number) => `ord_lean_${dialect}_${i}`;
    const deadlines: Array<[number, string]> = [
      [1, '2026-01-01T00:00:00.000Z'],
      [2, '2026-01-02T00:00:00.000Z'],
      [3, '2999-01-01T00:00:00.000Z'],
      [4, '2999-01-02T00:00:00.000Z'],
    ];
    for (const [i, at] of deadlines) await store.db.updateTable('orders').set({ expected_by: at, due_at: at }).where('id', '=', id(i)).execute();
    for (const i of [5, 7]) await store.db.updateTable('orders').set({ stuck: 1, expected_by: '2026-01-01T00:00:00.000Z' }).where('id', '=', id(i)).execute();
    await store.db.updateTable('orders').set({ stuck: 1, status: 'paid', expected_by: '2026-01-01T00:00:00.000Z' }).where('id', '=', id(9)).execute();
  });

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('finds the due orders, the stuck ones and the others as before', async () => {
    const due = await findDueOrders(store.db, '2026-06-01T00:00:00.000Z', 100);
    expect(due.map((d) => d.id)).toEqual([`ord_lean_${dialect}_1`, `ord_lean_${dialect}_2`]);
    const stuck = await listOrderRows(store.db, { projectId: project, stuck: true, limit: 10 });
    expect(stuck.map((o) => o.id)).toEqual([9, 7, 5].map((i) => `ord_lean_${dialect}_${i}`));
    const stuckPaid = await listOrderRows(store.db, { projectId: project, stuck: true, statuses: ['paid'], limit: 10 });
    expect(stuckPaid.map((o) => o.id)).toEqual([`ord_lean_${dialect}_9`]);
    const others = await listOrderRows(store.db, { projectId: project, stuck: false, limit: 20 });
    expect(others).toHaveLength(9);
    expect(others.every((o) => Number(o.stuck) === 0)).toBe(true);
    const counts = await countStuckOrders(store.db);
    expect(counts.filter((c) => c.projectId === project).sort((a, b) => a.status.localeCompare(b.status))).toEqual([
      { projectId: project, status: 'new', count: 2 },
      { projectId: project, status: 'paid', count: 1 },
    ]);
  });

  it('reads them through the partial indexes: the due range, the stuck list and the gauge', async () => {
    const steps = async (query: Compilable<unknown>) => {
      const compiled = query.compile();
      if (dialect === 'sqlite') {
        const plan = await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
        return plan.rows.map((r) => r.detail).join('\n');
      }
      // The pool's connections plan generically, as the server's do (a partial index whose
      // predicate a parameter would have to prove is then never a candidate). A test table is
      // small and has no statistics: with scans priced out, the plan shows what the indexes allow.
      return store.db.connection().execute(async (connection) => {
        await sql`set enable_seqscan = off`.execute(connection);
        await sql`set enable_bitmapscan = off`.execute(connection);
        try {
          const plan = await connection.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
          return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        } finally {
          await sql`reset enable_seqscan`.execute(connection);
          await sql`reset enable_bitmapscan`.execute(connection);
        }
      });
    };
    const usesIndex = (name: string) =>
      dialect === 'sqlite' ? new RegExp(`USING (COVERING )?INDEX ${name}\\b`) : new RegExp(`Index (Only )?Scan( Backward)? using ${name} on orders`);

    const due = await steps(dueOrdersQuery(store.db, '2026-06-01T00:00:00.000Z', 500));
    expect(due).toMatch(usesIndex('orders_due'));
    expect(due).not.toMatch(/Sort|Seq Scan|TEMP B-TREE/);

    // (`stuck=true` alone reads the project's orders newest first, as before 0015: SQLite's
    // planner prefers the order of `orders_project_seq`, and so does PostgreSQL's without statistics.)
    const list = await steps(listOrderRowsQuery(store.db, { projectId: project, limit: 50, stuck: true, statuses: ['paid'] }));
    expect(list).toMatch(usesIndex('orders_stuck'));
    expect(list).not.toMatch(/Seq Scan/);

    const gauge = await steps(stuckOrdersCountQuery(store.db));
    expect(gauge).toMatch(usesIndex('orders_stuck'));
    expect(gauge).not.toMatch(/Seq Scan/);
  });

  it("reads a list's next page within the project: its orders below the cursor, not every project's", async () => {
    const all = await listOrderRows(store.db, { projectId: project, limit: 20 });
    expect(all).toHaveLength(12);
    const page = await listOrderRows(store.db, { projectId: project, limit: 5 });
    const next = await listOrderRows(store.db, { projectId: project, beforeSeq: Number(page.at(-1)!.seq), limit: 5 });
    expect(next.map((o) => o.id)).toEqual(all.slice(5, 10).map((o) => o.id));
    const compiled = listOrderRowsQuery(store.db, { projectId: project, beforeSeq: 100, limit: 50 }).compile();
    if (dialect === 'sqlite') {
      const plan = await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
      expect(plan.rows.map((r) => r.detail).join('\n')).toMatch(/SEARCH orders USING INDEX orders_project_seq \(project_id=\? AND seq<\?\)/);
    } else {
      // Under a generic plan `seq < $2` alone matched the old primary key on seq, walked backwards
      // over every project's orders; since 0015 no index but the list's own has seq.
      const plan = await store.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).not.toMatch(/orders_pkey/);
      const primaryKey = await sql<{
        definition: string;
      }>`select pg_get_indexdef(indexrelid) as definition from pg_index where indrelid = 'orders'::regclass and indisprimary`.execute(store.db);
      expect(primaryKey.rows.map((r) => r.definition)).toEqual([expect.stringMatching(/USING btree \(id\)$/)]);
    }
  });
});
