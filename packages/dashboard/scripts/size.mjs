#!/usr/bin/env node
/**
 * What the dashboard costs a browser: every built file (index.html, scripts, styles),
 * gzipped, summed, against the budget. Measures the build output, so run `npm run build` first.
 *
 *   npm run size -w @ordercast/dashboard      # table; exits 1 over budget
 *   node scripts/size.mjs --json              # machine-readable
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_GZIP_BYTES = 150 * 1024;
export const BUILT_DIR = fileURLToPath(new URL('../../server/dashboard/', import.meta.url));

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

export function measureDashboard(dir = BUILT_DIR) {
  const files = filesUnder(dir).map((file) => {
    const bytes = readFileSync(file);
    return { file: path.relative(dir, file), bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
  });
  if (!files.some((f) => f.file === 'index.html')) throw new Error(`no built dashboard in ${dir}: run \`npm run build\` first`);
  const gzipBytes = files.reduce((sum, f) => sum + f.gzipBytes, 0);
  return {
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes,
    budgetGzipBytes: BUDGET_GZIP_BYTES,
    withinBudget: gzipBytes <= BUDGET_GZIP_BYTES,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = measureDashboard();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
    for (const f of result.files) console.log(`${f.file.padEnd(40)} ${kb(f.bytes).padStart(10)} ${kb(f.gzipBytes).padStart(10)} gzipped`);
    console.log(`${'total'.padEnd(40)} ${kb(result.bytes).padStart(10)} ${kb(result.gzipBytes).padStart(10)} gzipped (budget ${kb(BUDGET_GZIP_BYTES)})`);
  }
  if (!result.withinBudget) process.exitCode = 1;
}
