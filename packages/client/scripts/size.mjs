#!/usr/bin/env node
/**
 * What each entry point costs a browser page: bundled for the browser, minified, gzipped.
 * Bundles the TypeScript sources directly (no build needed) with rolldown, the bundler
 * already installed under vite (esbuild is not in this repository's dependency tree).
 *
 *   npm run size -w @ordercast/client          # table
 *   node scripts/size.mjs --json               # machine-readable
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rolldown } from 'rolldown';

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** Each entry imports one thing, the way an app would, so tree-shaking leaves only what it needs. */
export const entries = {
  'trackOrder (@ordercast/client/track)': `export { trackOrder } from ${JSON.stringify(path.join(src, 'track.js'))};`,
  'pollOrder (@ordercast/client/poll)': `export { pollOrder } from ${JSON.stringify(path.join(src, 'poll.js'))};`,
  '<ordercast-order-status> (@ordercast/client/element)': `export * from ${JSON.stringify(path.join(src, 'element.js'))};`,
};

/** What the element may add to a page beyond the SDK (`trackOrder` and socket.io-client) it is built on. */
export const ELEMENT_BUDGET_GZIP_BYTES = 12 * 1024;

/** The element's gzipped bytes beyond `trackOrder`'s, both bundled for the browser. */
export async function measureElement() {
  const element = await measure(entries['<ordercast-order-status> (@ordercast/client/element)']);
  const sdk = await measure(entries['trackOrder (@ordercast/client/track)']);
  return { element, sdk, besideSdkGzipBytes: element.gzipBytes - sdk.gzipBytes };
}

export async function measure(code) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-size-'));
  try {
    const input = path.join(dir, 'entry.js');
    writeFileSync(input, code);
    const bundle = await rolldown({
      input,
      platform: 'browser',
      logLevel: 'silent',
      // The sources import './x.js' as compiled ESM does; find the .ts beside it.
      resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    });
    const { output } = await bundle.generate({ format: 'esm', minify: true });
    await bundle.close();
    const text = output
      .filter((chunk) => chunk.type === 'chunk')
      .map((chunk) => chunk.code)
      .join('\n');
    return { code: text, minifiedBytes: Buffer.byteLength(text), gzipBytes: gzipSync(text, { level: 9 }).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = {};
  for (const [name, code] of Object.entries(entries)) {
    const { minifiedBytes, gzipBytes } = await measure(code);
    results[name] = { minifiedBytes, gzipBytes };
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
    for (const [name, { minifiedBytes, gzipBytes }] of Object.entries(results)) {
      console.log(`${name.padEnd(55)} ${kb(minifiedBytes).padStart(10)} minified ${kb(gzipBytes).padStart(10)} gzipped`);
    }
    const element = results['<ordercast-order-status> (@ordercast/client/element)'].gzipBytes;
    const sdk = results['trackOrder (@ordercast/client/track)'].gzipBytes;
    console.log(
      `${'the element beside trackOrder'.padEnd(55)} ${''.padStart(19)} ${kb(element - sdk).padStart(10)} gzipped (budget ${kb(ELEMENT_BUDGET_GZIP_BYTES)})`,
    );
  }
}
