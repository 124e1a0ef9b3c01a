// Baseline for the ingest scenario: a bare Fastify route doing one single-row
// insert in a transaction, on the same database and settings as Ordercast.
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import path from 'node:path';
import pg from 'pg';

const databaseUrl = process.env.BASELINE_DATABASE_URL;
const app = Fastify({ logger: false });
let insert;

if (databaseUrl) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(
    'create table if not exists baseline_events (id bigserial primary key, order_id text not null, status text not null, created_at text not null)',
  );
  insert = async (orderId, status) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('insert into baseline_events (order_id, status, created_at) values ($1, $2, $3)', [orderId, status, new Date().toISOString()]);
      await client.query('commit');
    } finally {
      client.release();
    }
  };
} else {
  const db = new Database(path.join(process.env.BASELINE_DATA_DIR, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'create table if not exists baseline_events (id integer primary key autoincrement, order_id text not null, status text not null, created_at text not null)',
  );
  const stmt = db.prepare('insert into baseline_events (order_id, status, created_at) values (?, ?, ?)');
  const tx = db.transaction((orderId, status) => stmt.run(orderId, status, new Date().toISOString()));
  insert = async (orderId, status) => tx(orderId, status);
}

app.post('/api/v2/orders/:id/status', async (request) => {
  await insert(request.params.id, request.body.status);
  return { id: request.params.id, status: request.body.status };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${url}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
