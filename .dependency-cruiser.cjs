// The layers of docs/architecture.md, checked by `npm run lint:deps` (and CI).
// Paths are the server's source; tests and the bench may reach anything.
const SRC = '^packages/server/src/';
const layer = (name) => `${SRC}${name}/`;
// app.ts wires the servers; core.ts, the services it and the one-off CLI commands build on.
const ROOTS = `${SRC}(app|core)\\.ts$`;

module.exports = {
  forbidden: [
    {
      name: 'domain-imports-nothing',
      comment: 'domain/ is pure: it imports nothing of ours but the public types the SDK shares',
      severity: 'error',
      from: { path: layer('domain') },
      to: { path: SRC, pathNot: layer('domain') },
    },
    {
      name: 'lib-imports-nothing',
      comment: 'lib/ holds generic helpers, as a package from npm would: nothing of ours',
      severity: 'error',
      from: { path: layer('lib') },
      to: { path: SRC, pathNot: layer('lib') },
    },
    {
      name: 'store-imports-only-domain',
      comment: 'store/ knows the database and the domain, nothing above them',
      severity: 'error',
      from: { path: layer('store') },
      to: { path: SRC, pathNot: [layer('store'), layer('domain'), layer('lib')] },
    },
    {
      name: 'edges-reach-the-database-through-services',
      comment: 'routes, gateways and the CLI use services, never store/',
      severity: 'error',
      from: { path: [layer('http'), layer('realtime'), layer('cli')] },
      to: { path: layer('store') },
    },
    {
      name: 'services-do-not-know-their-callers',
      comment: 'services/ are called by http, realtime, the CLI and the dispatcher; they never call up',
      severity: 'error',
      from: { path: layer('services') },
      to: { path: [layer('http'), layer('realtime'), layer('cli'), layer('webhooks'), ROOTS] },
    },
    {
      name: 'events-below-services',
      comment: 'events/ (hints, the log follower, waiters) sits under services and reads the log from store/',
      severity: 'error',
      from: { path: layer('events') },
      to: { path: [layer('services'), layer('http'), layer('realtime'), layer('cli'), layer('webhooks'), ROOTS] },
    },
    {
      name: 'edges-do-not-know-each-other',
      comment: 'http, realtime and the webhook dispatcher are wired together in app.ts only',
      severity: 'error',
      from: { path: `${SRC}(http|realtime|webhooks)/` },
      to: { path: [layer('http'), layer('realtime'), layer('webhooks'), layer('cli'), ROOTS], pathNot: `${SRC}$1/` },
    },
    {
      name: 'the-cli-uses-services',
      comment: 'the CLI starts the app or calls services; it never reaches into routes or gateways',
      severity: 'error',
      from: { path: layer('cli') },
      to: { path: [layer('http'), layer('realtime')] },
    },
    {
      name: 'only-the-cli-starts-the-app',
      comment: 'app.ts (and core.ts, the services it builds on) are the composition root: only the CLI entry points import them',
      severity: 'error',
      from: { path: SRC, pathNot: [layer('cli'), ROOTS] },
      to: { path: ROOTS },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse with, so Babel
    // strips the types, keeping `import type` arrows (tools/lint-deps/keep-type-imports.cjs).
    babelConfig: { fileName: 'tools/lint-deps/babel.config.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.json'] },
  },
};
