import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from './dialect.js';

/**
 * Fewer index writes per transition (issue #25). On PostgreSQL every change of an order is a
 * non-HOT update (its status is indexed), which adds an entry to each index of `orders` whose
 * predicate the new row meets; SQLite rewrites the entries of every index naming a column the
 * update sets. So each index of `orders` costs every change, and this migration keeps only
 * those a read needs, at the size it needs (the inventory of indexes and the queries that use
 * them, and what this measured: bench/README.md, "ingest on PostgreSQL").
 */
export function leanWritesMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0015_lean_writes': {
      async up(db: Kysely<any>) {
        if (dialect === 'postgres') {
          // The key on `seq` was one more entry per change, and no query reads orders by seq
          // alone: lists read `(project_id, …, seq)`. Worse, a list's next page under a generic
          // plan walked it backwards over every project's orders (`seq < $2`, filtered by
          // project). The key moves to `id`, which every look-up of an order uses and which
          // was unique already; `seq` stays the list position, unique by its sequence. (On
          // SQLite `seq` is the rowid: no index of its own.)
          await sql`alter table orders drop constraint orders_pkey, drop constraint orders_id_key, add constraint orders_pkey primary key (id)`.execute(db);
        }
        // The two timing indexes of 0014 held every order, though their readers want few: the
        // sweeper reads orders with a deadline, the stuck filter and the gauge stuck ones. As
        // partial indexes, a change of an order without a deadline and not stuck writes nothing
        // to them. Readers must name the predicate so that a generic plan proves it: `due_at <=
        // $1` implies `due_at is not null`, but `stuck = $1` does not imply `stuck = 1`, so the
        // stuck filters say `stuck = 1` as a literal (repositories/orders.ts, order-deadlines.ts).
        await db.schema.dropIndex('orders_due').execute();
        await db.schema.createIndex('orders_due').on('orders').columns(['due_at']).where(sql.ref('due_at'), 'is not', null).execute();
        // "stuck orders of project P in these statuses" (the list filter) and "stuck orders per
        // project and status" (the gauge, which reads the whole index and nothing else).
        await db.schema.dropIndex('orders_stuck').execute();
        await db.schema.createIndex('orders_stuck').on('orders').columns(['project_id', 'status', 'seq']).where(sql.ref('stuck'), '=', 1).execute();
      },
    },
  };
}
