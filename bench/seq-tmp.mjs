import { createApp } from '/work/main/packages/server/dist/app.js';
import { loadConfig } from '/work/main/packages/server/dist/config.js';
import pino from 'pino';
import { mkdtempSync } from 'node:fs';
const dataDir = mkdtempSync('/tmp/seq-');
const config = loadConfig({ port: 0, host: '127.0.0.1', dataDir, demo: false, databaseUrl: process.env.DBURL }, { ORDERCAST_RATE_LIMIT: '0' });
const app = await createApp(config, { logger: pino({ level: 'silent' }) });
const base = await app.listen();
const p = await app.projects.create({ name: 'x', lifecycle: { name: 'l', statuses: ['a','b','done'], initial: ['a'], final: ['done'], transitions: { a: ['b','done'], b: ['a','done'] } } });
const h = { authorization: `Bearer ${p.secretKey}`, 'content-type': 'application/json' };
const o = await (await fetch(base + '/api/v2/orders', { method: 'POST', headers: h, body: '{}' })).json();
let t = performance.now();
for (let i = 0; i < 300; i++) {
  const r = await fetch(`${base}/api/v2/orders/${o.id}/status`, { method: 'POST', headers: h, body: JSON.stringify({ status: i % 2 ? 'a' : 'b' }) });
  await r.text();
}
console.log('http per transition ms', ((performance.now() - t) / 300).toFixed(2));
t = performance.now();
for (let i = 0; i < 300; i++) await app.orders.transition(p.project.id, o.id, { status: i % 2 ? 'a' : 'b' });
console.log('service per transition ms', ((performance.now() - t) / 300).toFixed(2));
await app.close();
