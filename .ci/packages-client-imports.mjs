// @ordercast/client as a user's project sees it once installed from its tarball: imported
// from an ES module and required from CommonJS (the root and every subpath), and its
// types found by TypeScript, with default settings and with nodenext from .mts and .cts.
//
//   node .ci/packages-client-imports.mjs <folder where it is installed> <the repository's tsc>
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [app, repoTsc] = process.argv.slice(2);
const dir = path.join(app, 'client-imports');
mkdirSync(dir, { recursive: true });
const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
let failed = false;
function attempt(label, fn) {
  try {
    const out = fn();
    console.log(`ok  ${label}${out ? `: ${out.trim()}` : ''}`);
  } catch (error) {
    failed = true;
    console.error(`FAILED  ${label}\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  }
}

writeFileSync(
  path.join(dir, 'esm.mjs'),
  `import { trackOrder, pollOrder, verifyWebhook } from '@ordercast/client';
import { pollOrder as poll } from '@ordercast/client/poll';
import { trackOrder as track } from '@ordercast/client/track';
import { verifyWebhook as verify } from '@ordercast/client/verify';
import '@ordercast/client/types';
const all = [trackOrder, pollOrder, verifyWebhook, poll, track, verify];
if (!all.every((f) => typeof f === 'function')) throw new Error('not functions');
console.log(all.length + ' functions');
`,
);
writeFileSync(
  path.join(dir, 'cjs.cjs'),
  `const client = require('@ordercast/client');
const { pollOrder } = require('@ordercast/client/poll');
const { trackOrder } = require('@ordercast/client/track');
const { verifyWebhook } = require('@ordercast/client/verify');
const all = [client.trackOrder, client.pollOrder, client.verifyWebhook, pollOrder, trackOrder, verifyWebhook];
if (!all.every((f) => typeof f === 'function')) throw new Error('not functions');
console.log(all.length + ' functions');
`,
);
attempt('ESM import (root and subpaths)', () => run(process.execPath, ['esm.mjs']));
attempt('CommonJS require (root and subpaths)', () => run(process.execPath, ['cjs.cjs']));

// Every import must resolve to the package's own declarations: a wrong type is a compile
// error, not an `any` (noImplicitAny through strict, and the assignments below).
const usage = `
const track: typeof trackOrder = trackOrder;
const poll: typeof pollOrder = pollOrder;
const verify: typeof verifyWebhook = verifyWebhook;
const status: Order['status'] = 'PROCESSING';
export const used = [track, poll, verify, status];
`;
writeFileSync(
  path.join(dir, 'defaults.ts'),
  `import { trackOrder } from '@ordercast/client/track';
import { pollOrder } from '@ordercast/client/poll';
import { verifyWebhook } from '@ordercast/client/verify';
import type { Order } from '@ordercast/client/types';
import * as root from '@ordercast/client';
const fromRoot: typeof root.trackOrder = trackOrder;
${usage}
export const alsoUsed = fromRoot;
`,
);
writeFileSync(
  path.join(dir, 'esm.mts'),
  `import { trackOrder, pollOrder, verifyWebhook, type Order } from '@ordercast/client';
${usage}`,
);
writeFileSync(
  path.join(dir, 'cjs.cts'),
  `import { trackOrder } from '@ordercast/client/track';
import { pollOrder } from '@ordercast/client/poll';
import { verifyWebhook } from '@ordercast/client/verify';
import type { Order } from '@ordercast/client/types';
${usage}`,
);

// TypeScript 5: with no settings, \`tsc file.ts\` resolves modules the node10 way, which
// ignores "exports" (typesVersions then finds the subpaths).
run('npm', ['init', '-y']);
run('npm', ['install', '--no-audit', '--no-fund', '--silent', 'typescript@5', '@types/node@20']);
const ts5 = path.join(dir, 'node_modules/.bin/tsc');
// --strict only so that a module without types is an error rather than an \`any\`.
attempt(`TypeScript ${run(ts5, ['--version']).trim()}, default settings`, () => run(ts5, ['--noEmit', '--strict', 'defaults.ts']));
attempt(`TypeScript 5, moduleResolution node10 (explicit)`, () =>
  run(ts5, ['--noEmit', '--strict', '--types', 'node', '--module', 'commonjs', '--moduleResolution', 'node10', 'defaults.ts']),
);
attempt('TypeScript 5, nodenext (.mts and .cts)', () => run(ts5, ['--noEmit', '--strict', '--types', 'node', '--module', 'nodenext', 'esm.mts', 'cjs.cts']));
attempt('TypeScript 5, bundler', () =>
  run(ts5, ['--noEmit', '--strict', '--types', 'node', '--module', 'esnext', '--moduleResolution', 'bundler', 'defaults.ts']),
);
attempt(`TypeScript ${run(repoTsc, ['--version']).trim()} (the repository's), default settings`, () =>
  run(repoTsc, ['--noEmit', '--strict', '--types', 'node', 'defaults.ts']),
);
attempt("the repository's TypeScript, nodenext (.mts and .cts)", () =>
  run(repoTsc, ['--noEmit', '--strict', '--types', 'node', '--module', 'nodenext', 'esm.mts', 'cjs.cts']),
);
process.exit(failed ? 1 : 0);
