// Checks what each npm tarball ships: a README and a LICENSE, the files it runs from, and
// no tests, sources or source maps.   node .ci/packages-contents.mjs <client tgz> <server tgz>
import { execFileSync } from 'node:child_process';

const [clientTgz, serverTgz] = process.argv.slice(2);
const listing = (tgz) =>
  execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));

const rules = {
  [clientTgz]: {
    required: [
      'README.md',
      'LICENSE',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/browser.js',
      'dist/track.js',
      'dist/poll.d.ts',
      'dist/verify.js',
    ],
  },
  [serverTgz]: {
    required: ['README.md', 'LICENSE', 'package.json', 'bin/ordercast.js', 'dist/cli/main.js', 'dist/app.js', 'dashboard/index.html'],
  },
};
const forbidden = [/(^|\/)test\//, /\.test\.[cm]?[jt]s$/, /\.map$/, /^src\//, /\.tsbuildinfo$/, /^node_modules\//];

let failed = false;
for (const [tgz, { required }] of Object.entries(rules)) {
  const files = listing(tgz);
  const missing = required.filter((f) => !files.includes(f));
  const unwanted = files.filter((f) => forbidden.some((re) => re.test(f)));
  const name = tgz.split('/').pop();
  if (missing.length) console.error(`${name} lacks ${missing.join(', ')}`);
  if (unwanted.length) console.error(`${name} ships ${unwanted.slice(0, 10).join(', ')}${unwanted.length > 10 ? ', …' : ''}`);
  failed ||= missing.length > 0 || unwanted.length > 0;
  console.log(`${name}: ${files.length} files, ${missing.length} missing, ${unwanted.length} unwanted`);
}
process.exit(failed ? 1 : 0);
