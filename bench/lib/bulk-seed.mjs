// Seeds big SQLite databases directly, for the scale scenario: through the API a
// million orders would take longer than the whole benchmark. Each row is a copy of a
// real one the server wrote (so every column, index and JSON shape is the server's
// own), with its ids replaced; rows go in by the tens of thousands per transaction.
import Database from 'better-sqlite3';

const CHUNK = 20_000;

function cloner(db, table, template) {
  const columns = Object.keys(template).filter((c) => c !== 'seq');
  const insert = db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
  return (row) => insert.run(row);
}

/** Replaces every occurrence of each key of `swaps` in the text columns of `row`. */
function swapped(row, swaps) {
  const out = { ...row };
  for (const [column, value] of Object.entries(out)) {
    if (typeof value !== 'string') continue;
    let text = value;
    for (const [from, to] of swaps) if (text.includes(from)) text = text.split(from).join(to);
    out[column] = text;
  }
  return out;
}

function inChunks(db, count, label, log, write) {
  const started = Date.now();
  let lastLog = started;
  const chunk = db.transaction((from, to) => {
    for (let i = from; i < to; i++) write(i);
  });
  for (let from = 0; from < count; from += CHUNK) {
    chunk(from, Math.min(count, from + CHUNK));
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`${label}: ${Math.min(count, from + CHUNK).toLocaleString('en')} of ${count.toLocaleString('en')}`);
    }
  }
  log(`${label}: ${count.toLocaleString('en')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function open(dbFile) {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  return db;
}

/** Folds the WAL into the database before the server opens it, so its first checkpoint is not the whole seed. */
function close(db) {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/**
 * Adds `count` copies of the order `templateId` (the orders row, every event, the
 * user's channel offset), each with its own order id, event ids and user.
 */
export function cloneOrders(dbFile, templateId, count, log) {
  const db = open(dbFile);
  try {
    const order = db.prepare('select * from orders where id = ?').get(templateId);
    const events = db.prepare('select * from order_events where order_id = ? order by version').all(templateId);
    const offset = db.prepare('select * from channel_offsets where project_id = ? and user_external_id = ?').get(order.project_id, order.user_external_id);
    if (!order || events.length === 0 || !offset) throw new Error(`bulk seed: template order ${templateId} needs a user and events`);
    const insertOrder = cloner(db, 'orders', order);
    const insertEvent = cloner(db, 'order_events', events[0]);
    const insertOffset = cloner(db, 'channel_offsets', offset);
    inChunks(db, count, `seeding orders with ${events.length} events each`, log, (i) => {
      const swaps = [
        [templateId, `ord_bulk${i.toString(36).padStart(8, '0')}`],
        [order.user_external_id, `bulk-user-${i}`],
      ];
      insertOrder(swapped({ ...order, external_id: null }, swaps));
      for (const event of events) insertEvent(swapped(event, [[event.id, `evt_bulk${i.toString(36)}v${event.version}`], ...swaps]));
      insertOffset(swapped(offset, swaps));
    });
  } finally {
    close(db);
  }
}

/** Adds `count` copies of the delivery `templateId`, as long delivered, created `ageDays` ago. */
export function cloneDeliveredDeliveries(dbFile, templateId, count, ageDays, log) {
  const db = open(dbFile);
  try {
    const delivery = db.prepare('select * from webhook_deliveries where id = ?').get(templateId);
    if (!delivery) throw new Error(`bulk seed: no delivery ${templateId}`);
    const insert = cloner(db, 'webhook_deliveries', delivery);
    const old = new Date(Date.now() - ageDays * 86_400_000).toISOString();
    inChunks(db, count, 'seeding delivered webhook deliveries', log, (i) =>
      insert({
        ...delivery,
        id: `msg_bulk${i.toString(16).padStart(24, '0')}`,
        event_id: `evt_bulkd${i.toString(36)}`,
        status: 'succeeded',
        attempt_count: 1,
        locked_until: null,
        locked_by: null,
        last_status_code: 200,
        created_at: old,
        updated_at: old,
        next_attempt_at: old,
        completed_at: old,
      }),
    );
  } finally {
    close(db);
  }
}
