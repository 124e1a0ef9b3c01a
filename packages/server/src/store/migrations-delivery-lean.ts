import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The outbox's claim order, with each row's lease in the index itself. Every claim reads
 * the due index from its oldest entry, and in a busy drain the oldest pending deliveries
 * are the ones in flight (leased) and the ones claimed and waiting for a slot: with the
 * lease in the index, the claim passes over them without reading their rows (each row
 * holds the payload, so each was a page read per leased delivery per claim). The due
 * probe (anyDeliveryDue) is then answered from the index alone. The price: a lease now
 * also rewrites the delivery's entry here, next to the entries of the deliveries claimed
 * with it (they are adjacent in claim order), so a claim dirties a page or two more.
 */
export function deliveryLeanMigrations(): Record<string, Migration> {
  return {
    '0016_delivery_lean': {
      async up(db: Kysely<any>) {
        await db.schema
          .createIndex('webhook_deliveries_due_lease')
          .on('webhook_deliveries')
          .columns(['next_attempt_at', 'seq', 'locked_until'])
          .where(sql.ref('status'), '=', 'pending')
          .execute();
        await db.schema.dropIndex('webhook_deliveries_due').execute();
      },
    },
  };
}
