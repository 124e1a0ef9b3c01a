import { openStore } from '../packages/server/dist/store/database.js';
import { migrateToLatest } from '../packages/server/dist/store/migrations.js';
import { parseLifecycle } from '../packages/server/dist/domain/lifecycle.js';
import { mkdtempSync } from 'node:fs';
const store = openStore({ dataDir: mkdtempSync('/tmp/seq2-'), checkpointInBackground: true });
await migrateToLatest(store.db, store.dialect);
await store.db.insertInto('projects').values({ id: 'p', name: 'p', lifecycle: '{}', token_secret: 's', created_at: 'x' }).execute();
const lifecycle = parseLifecycle({ name: 'l', statuses: ['a','b','done'], initial: ['a'], final: ['done'], transitions: { a: ['b','done'], b: ['a','done'] } });
const c = await store.orderLog.append({ kind: 'create', projectId: 'p', lifecycle, order: { externalId: null, userExternalId: null, amount: null, currency: null, metadata: {}, status: undefined } }, { orderId: 'o1', eventId: 'e0' });
console.log(c.kind);
let t = performance.now();
for (let i = 0; i < 300; i++) {
  const r = await store.orderLog.append({ kind: 'transition', projectId: 'p', lifecycle, orderId: 'o1', change: { status: i % 2 ? 'a' : 'b', reason: null } }, { orderId: 'x', eventId: 'e' + (i + 1) });
  if (r.kind !== 'appended') throw new Error(JSON.stringify(r));
}
console.log('append ms', ((performance.now() - t) / 300).toFixed(3));
t = performance.now();
for (let i = 0; i < 300; i++) await store.log.after({ txId: 0, seq: i }, 500);
console.log('log.after ms', ((performance.now() - t) / 300).toFixed(3));
await store.close();
const store2 = openStore({ dataDir: mkdtempSync('/tmp/seq2b-') });
await migrateToLatest(store2.db, store2.dialect);
t = performance.now();
for (let i = 0; i < 300; i++) await store2.db.connection().execute(async () => 1);
console.log('kysely connection() ms', ((performance.now() - t) / 300).toFixed(3));
