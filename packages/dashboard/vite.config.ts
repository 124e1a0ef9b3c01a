import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * Builds into the server package (packages/server/dashboard), so the built files ship
 * in the `ordercast` package and the server finds them beside its own code.
 */
export default defineConfig({
  base: '/dashboard/',
  plugins: [preact({ prefreshEnabled: false, devToolsEnabled: false })],
  build: {
    outDir: fileURLToPath(new URL('../server/dashboard/', import.meta.url)),
    emptyOutDir: true,
    // The CSP allows no inline script: Vite's module-preload polyfill and inlined assets stay in files.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w @ordercast/dashboard` against a server on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
