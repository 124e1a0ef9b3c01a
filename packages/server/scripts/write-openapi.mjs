// Writes the OpenAPI document a server serves at /openapi.json to a file (default
// test-output/openapi.json), for `npm run lint:openapi`. It starts the built server
// (dist/) in this process on a throwaway SQLite database and a free port, asks it for
// the document as any client would, and stops it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';

const output = path.resolve(process.argv[2] ?? 'test-output/openapi.json');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-openapi-'));
try {
  const config = loadConfig({ port: 0, host: '127.0.0.1', dataDir, demo: false }, { ORDERCAST_METRICS_PORT: 'off' });
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  try {
    const response = await fetch(`${await app.listen()}/openapi.json`);
    if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
    mkdirSync(path.dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify(await response.json(), null, 2)}\n`);
  } finally {
    await app.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`OpenAPI document written to ${path.relative(process.cwd(), output)}`);
