import { openStore } from '../packages/server/dist/store/database.js';
import { migrateToLatest } from '../packages/server/dist/store/migrations.js';
import { parseLifecycle } from '../packages/server/dist/domain/lifecycle.js';
import { mkdtempSync } from 'node:fs';
for (const bg of [false, true]) {
const store = openStore({ dataDir: mkdtempSync('/tmp/seq4-'), checkpointInBackground: bg });
await migrateToLatest(store.db, store.dialect);
await store.db.insertInto('projects').values({ id: 'p', name: 'p', lifecycle: '{}', token_secret: 's', created_at: 'x' }).execute();
const lifecycle = parseLifecycle({ name: 'l', statuses: ['a','b','done'], initial: ['a'], final: ['done'], transitions: { a: ['b','done'], b: ['a','done'] } });
await store.orderLog.append({ kind: 'create', projectId: 'p', lifecycle, order: { externalId: null, userExternalId: null, amount: null, currency: null, metadata: {}, status: undefined } }, { orderId: 'o1', eventId: 'e0' });
const log = store.orderLog; const orig = log.commitBatch.bind(log); let inside = 0;
log.commitBatch = (b) => { const t0 = performance.now(); const r = orig(b); inside += performance.now() - t0; return r; };
let t = performance.now();
for (let i = 0; i < 300; i++) {
  await store.orderLog.append({ kind: 'transition', projectId: 'p', lifecycle, orderId: 'o1', change: { status: i % 2 ? 'a' : 'b', reason: null } }, { orderId: 'x', eventId: 'e' + (i + 1) });
}
console.log('bg', bg, 'append ms', ((performance.now() - t) / 300).toFixed(3), 'inside commitBatch', (inside/300).toFixed(3));
await store.close();
}
