import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Fewer index writes per transition (issue #25). On PostgreSQL every change of an order is a
 * non-HOT update (its status is indexed), which adds an entry to each index of `orders` whose
 * predicate the new row meets; SQLite rewrites the entries of every index naming a column the
 * update sets. The two timing indexes of 0014 held every order, though their readers only
 * want a few: the sweeper reads orders with a deadline (`due_at <= now`), the list filter and
 * the gauge read stuck ones. As partial indexes they hold only those, so a change of an order
 * without a deadline, or not stuck, writes nothing to them. Readers must name the predicate in
 * a form the planner can prove under a generic plan: `due_at <= $1` implies `due_at is not
 * null`, but `stuck = $1` does not imply `stuck = 1`, so the stuck filters use the literal
 * (store/repositories/orders.ts, order-deadlines.ts). The inventory behind this, and what it
 * measured, is in bench/README.md ("ingest on PostgreSQL", lean writes).
 */
export function leanWritesMigrations(): Record<string, Migration> {
  return {
    '0015_lean_writes': {
      async up(db: Kysely<any>) {
        await db.schema.dropIndex('orders_due').execute();
        await db.schema.createIndex('orders_due').on('orders').columns(['due_at']).where(sql.ref('due_at'), 'is not', null).execute();
        // "stuck orders of project P" (newest first: few, so sorted after the read) and "stuck
        // orders per project and status" (the gauge, an index-only read of the whole index).
        await db.schema.dropIndex('orders_stuck').execute();
        await db.schema.createIndex('orders_stuck').on('orders').columns(['project_id', 'status', 'seq']).where(sql.ref('stuck'), '=', 1).execute();
      },
    },
  };
}
