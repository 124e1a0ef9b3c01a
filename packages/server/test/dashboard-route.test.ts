import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../src/http/routes/dashboard.js';

/** The static route alone, over folders made here: built, and not built. */
describe('the /dashboard route', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-dashboard-route-'));
    mkdirSync(path.join(dir, 'built', 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'built', 'index.html'), '<!doctype html><script type="module" src="/dashboard/assets/index-abc123.js"></script>');
    writeFileSync(path.join(dir, 'built', 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'secret.txt'), 'not for the web');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function app(folder: string) {
    const fastify = Fastify();
    await fastify.register(dashboardRoutes, { dir: folder });
    return fastify;
  }

  it('answers a clear 503 page saying how to build it when the built files are missing', async () => {
    const fastify = await app(path.join(dir, 'missing'));
    for (const url of ['/dashboard', '/dashboard/', '/dashboard/orders/ord_1']) {
      const response = await fastify.inject({ url });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.body).toContain('npm run build');
    }
    expect((await fastify.inject({ url: '/dashboard/assets/index-abc123.js' })).statusCode).toBe(404);
  });

  it('serves index.html for every page path and hashed assets with a long cache', async () => {
    const fastify = await app(path.join(dir, 'built'));
    for (const url of ['/dashboard', '/dashboard/', '/dashboard/webhooks', '/dashboard/orders/ord_1']) {
      const response = await fastify.inject({ url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      expect(response.body).toContain('index-abc123.js');
    }
    const asset = await fastify.inject({ url: '/dashboard/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toContain('text/javascript');
  });

  it('never serves a file outside the assets folder', async () => {
    const fastify = await app(path.join(dir, 'built'));
    for (const url of [
      '/dashboard/assets/../../secret.txt',
      '/dashboard/assets/..%2F..%2Fsecret.txt',
      '/dashboard/assets/%2e%2e/%2e%2e/secret.txt',
      '/dashboard/assets/nope.js',
    ]) {
      const response = await fastify.inject({ url });
      expect(response.body).not.toContain('not for the web');
      if (response.statusCode === 200) expect(response.headers['content-type']).toContain('text/html');
    }
    expect((await fastify.inject({ url: '/dashboard/assets/nope.js' })).statusCode).toBe(404);
  });
});
