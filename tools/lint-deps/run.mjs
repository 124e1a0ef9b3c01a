#!/usr/bin/env node
// npm run lint:deps: checks the server's layers (.dependency-cruiser.cjs). Without a
// TypeScript parser dependency-cruiser skips .ts files when it scans a folder, so the
// files are listed here and handed over by name.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const files = readdirSync(path.join(root, 'packages/server/src'), { recursive: true })
  .filter((file) => /\.tsx?$/.test(file))
  .map((file) => path.join('packages/server/src', file));
const result = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', '.dependency-cruiser.cjs', '--output-type', 'err-long', ...files],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
