import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
const db = new Database(mkdtempSync('/tmp/seq3-') + '/x.db');
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
db.exec('create table t (a integer primary key, b text)');
const ins = db.prepare('insert into t (b) values (?)');
let t = performance.now();
for (let i = 0; i < 300; i++) db.transaction(() => ins.run('x'.repeat(500))).immediate();
console.log('raw txn ms', ((performance.now() - t) / 300).toFixed(3));
t = performance.now();
for (let i = 0; i < 300; i++) { await new Promise(r => setImmediate(r)); db.transaction(() => ins.run('x'.repeat(500))).immediate(); }
console.log('raw txn + setImmediate ms', ((performance.now() - t) / 300).toFixed(3));
