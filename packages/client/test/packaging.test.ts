import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { ELEMENT_BUDGET_GZIP_BYTES, entries, measure, measureElement } from '../scripts/size.mjs';

const [trackEntry, pollEntry] = Object.values(entries as Record<string, string>);
const builtElement = JSON.stringify(new URL('../dist/element.js', import.meta.url).pathname);
const socketClientCode = /engine\.io|socket\.io|transport close/;

/** The claims the package makes about what a page pays for, checked on real browser bundles. */
describe('browser bundles', () => {
  it('pollOrder alone does not pull in the socket client', async () => {
    const { code, gzipBytes } = await measure(pollEntry);
    expect(code).toContain('waitForChange');
    expect(code).not.toMatch(socketClientCode);
    expect(gzipBytes).toBeLessThan(5 * 1024);
  });

  it('trackOrder bundles the browser build of socket.io-client and nothing from Node', async () => {
    const { code, gzipBytes } = await measure(trackEntry);
    expect(code).toMatch(socketClientCode);
    expect(code).not.toMatch(/node:|require\(["'](?:ws|crypto|http)/);
    // Self-contained: every import was resolved into the bundle.
    expect(code).not.toMatch(/\bimport\s*[\w{*][^;]*\bfrom\s*["']/);
    expect(gzipBytes).toBeLessThan(25 * 1024);
  });
});

describe('the <ordercast-order-status> element', () => {
  it('adds at most 12 KB gzipped beside trackOrder, bundled for the browser', async () => {
    const { element, besideSdkGzipBytes } = await measureElement();
    expect(element.code).toContain('ordercast-order-status');
    expect(element.code).toMatch(socketClientCode);
    expect(ELEMENT_BUDGET_GZIP_BYTES).toBe(12 * 1024);
    expect(besideSdkGzipBytes).toBeGreaterThan(0);
    expect(besideSdkGzipBytes).toBeLessThanOrEqual(ELEMENT_BUDGET_GZIP_BYTES);
  });

  it('`import "@ordercast/client/element"` for its side effect keeps the definition (package.json sideEffects)', async () => {
    const { code } = await measure(`import ${builtElement};`);
    expect(code).toMatch(/customElements/);
    expect(code).toContain('ordercast-order-status');
  });

  it('loads in Node (server rendering) and defines nothing there', async () => {
    const element = await import('@ordercast/client/element');
    expect(element.ORDER_STATUS_TAG).toBe('ordercast-order-status');
    expect(typeof element.OrderStatusElement).toBe('function');
    expect(typeof element.followOrderLink).toBe('function');
    expect(packagesImportedBy('element.js')).toEqual(['socket.io-client']);
  });
});

describe('the published entry points', () => {
  // These import the built package through its `exports` map, as an app would (npm test builds first).
  it('/verify and /poll load without socket.io-client', async () => {
    const verify = await import('@ordercast/client/verify');
    const poll = await import('@ordercast/client/poll');
    expect(typeof verify.verifyWebhook).toBe('function');
    expect(typeof poll.pollOrder).toBe('function');
    expect('trackOrder' in poll).toBe(false);
    expect(packagesImportedBy('verify.js')).toEqual(['node:crypto']);
    expect(packagesImportedBy('poll.js')).toEqual([]);
    expect(packagesImportedBy('track.js')).toEqual(['socket.io-client']);
  });

  it('the root entry has everything', async () => {
    const root = await import('@ordercast/client');
    expect(Object.keys(root)).toEqual(expect.arrayContaining(['trackOrder', 'pollOrder', 'verifyWebhook', 'OrderNotFoundError', 'AuthError', 'TimeoutError']));
  });
});

/** The bare specifiers (packages, builtins) reachable from one built entry through its relative imports. */
function packagesImportedBy(entry: string): string[] {
  const dist = new URL('../dist/', import.meta.url);
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(new URL(file, dist), 'utf8');
    for (const [, specifier] of code.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
      if (specifier.startsWith('./')) visit(specifier.slice(2));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return [...packages].sort();
}
