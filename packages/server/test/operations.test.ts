import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(testDialects)('operations endpoints on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(dialect);
  });
  afterAll(async () => server?.close());

  it('reports liveness and database readiness', async () => {
    expect((await server.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await server.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    // On PostgreSQL the LISTEN connection that wakes this node for other nodes' writes is reported too.
    expect(ready.body).toEqual({ status: 'ready', database: dialect, ...(dialect === 'postgres' ? { databaseListen: 'ok' } : {}) });
  });

  it('exposes Prometheus metrics for requests, orders created and transitions by status, on the metrics port only', async () => {
    const project = await server.createProject('store');
    const { body: order } = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: {} });
    await server.request('POST', `/api/v2/orders/${order.id}/status`, { key: project.secretKey, body: { status: 'paid' } });
    // Every tenant's volumes: not on the public API port.
    const onApiPort = await server.request('GET', '/metrics');
    expect(onApiPort.status).toBe(404);
    expect(onApiPort.body.error.code).toBe('route_not_found');
    expect(new URL(server.metricsUrl).hostname).toBe('127.0.0.1');
    expect(new URL(server.metricsUrl).port).not.toBe(new URL(server.baseUrl).port);
    const res = await fetch(server.metricsUrl);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^ordercast_orders_created_total 1$/m);
    expect(text).toMatch(/^ordercast_order_transitions_total\{status="paid"\} 1$/m);
    expect(text).toMatch(/ordercast_http_request_duration_seconds_bucket\{.*route="\/api\/v2\/orders\/:id\/status".*status_code="200"/);
  });

  it('publishes an OpenAPI 3.1 document with every route and a docs UI', async () => {
    const spec = (await server.request('GET', '/openapi.json')).body;
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths).sort()).toEqual([
      '/api/v2/admin/admin-keys',
      '/api/v2/admin/admin-keys/{id}/roll',
      '/api/v2/admin/projects',
      '/api/v2/admin/projects/{id}',
      '/api/v2/admin/projects/{id}/dashboard-links',
      '/api/v2/admin/projects/{id}/disable',
      '/api/v2/admin/projects/{id}/enable',
      '/api/v2/admin/projects/{id}/keys',
      '/api/v2/admin/projects/{id}/keys/{keyId}',
      '/api/v2/admin/projects/{id}/keys/{keyId}/roll',
      '/api/v2/admin/projects/{id}/lifecycle',
      '/api/v2/admin/projects/{id}/quotas',
      '/api/v2/audit-log',
      '/api/v2/dashboard-sessions',
      '/api/v2/dashboard-sessions/{id}',
      '/api/v2/dashboard/session',
      '/api/v2/dashboard/sign-in',
      '/api/v2/dashboard/sign-out',
      '/api/v2/event-types',
      '/api/v2/events',
      '/api/v2/orders',
      '/api/v2/orders/batch',
      '/api/v2/orders/{id}',
      '/api/v2/orders/{id}/events',
      '/api/v2/orders/{id}/expunge',
      '/api/v2/orders/{id}/links',
      '/api/v2/orders/{id}/status',
      '/api/v2/orders/{id}/stream',
      '/api/v2/project',
      '/api/v2/project/branding',
      '/api/v2/stream',
      '/api/v2/tokens',
      '/api/v2/webhook-deliveries',
      '/api/v2/webhook-deliveries/{id}',
      '/api/v2/webhook-deliveries/{id}/redeliver',
      '/api/v2/webhook-endpoints',
      '/api/v2/webhook-endpoints/{id}',
      '/api/v2/webhook-endpoints/{id}/recover',
      '/api/v2/webhook-endpoints/{id}/rotate-secret',
      '/api/v2/webhook-endpoints/{id}/send-example',
      '/api/v2/webhook-endpoints/{id}/stats',
      '/api/v2/webhook-endpoints/{id}/test',
    ]);
    expect(spec.paths['/api/v2/orders'].post.responses['201']).toBeDefined();
    // The admin API has its own tag, and only its operations carry it.
    expect(spec.tags.map((tag: { name: string }) => tag.name)).toContain('admin');
    for (const [path, operations] of Object.entries<Record<string, { tags?: string[] }>>(spec.paths)) {
      for (const operation of Object.values(operations)) expect(operation.tags?.includes('admin'), path).toBe(path.startsWith('/api/v2/admin/'));
    }
    const docs = await fetch(`${server.baseUrl}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});

describe('readiness when the database is gone', () => {
  it('answers 503 instead of crashing', async () => {
    const server = await startTestServer('sqlite');
    try {
      await server.app.store.close();
      const res = await server.request('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'unavailable' });
      expect((await server.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await server.app.http.close();
    }
  });
});

describe('CORS for checkout pages on other origins', () => {
  it('answers preflights and exposes ETag and rate-limit headers to any origin by default', async () => {
    const server = await startTestServer('sqlite');
    try {
      const project = await server.createProject('store');
      const preflight = await fetch(`${server.baseUrl}/api/v2/orders/ord_x`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization, if-none-match',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('if-none-match');
      const res = await server.request('GET', '/api/v2/orders', { key: project.secretKey, headers: { origin: 'https://shop.example.com' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-expose-headers')).toContain('etag');
    } finally {
      await server.close();
    }
  });

  it('allows only the listed origins when ORDERCAST_CORS_ORIGINS is set', async () => {
    const server = await startTestServer('sqlite', { ORDERCAST_CORS_ORIGINS: 'https://shop.example.com' });
    try {
      const project = await server.createProject('store');
      const listed = await server.request('GET', '/api/v2/orders', { key: project.secretKey, headers: { origin: 'https://shop.example.com' } });
      expect(listed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
      const other = await server.request('GET', '/api/v2/orders', { key: project.secretKey, headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('the metrics listener', () => {
  it('defaults to loopback port 9464; `off` turns it off; anything else is a configuration error', async () => {
    const { loadConfig, ConfigError } = await import('../src/config.js');
    const defaults = loadConfig({}, {});
    expect([defaults.metricsHost, defaults.metricsPort]).toEqual(['127.0.0.1', 9464]);
    expect(loadConfig({}, { ORDERCAST_METRICS_PORT: 'off' }).metricsPort).toBeUndefined();
    expect(loadConfig({ metricsPort: '9100' }, { ORDERCAST_METRICS_PORT: 'off' }).metricsPort).toBe(9100);
    expect(() => loadConfig({}, { ORDERCAST_METRICS_PORT: 'public' })).toThrow(ConfigError);
  });

  it('is not started with `off`, and a port already taken stops the server with a message saying so', async () => {
    const off = await startTestServer('sqlite', { ORDERCAST_METRICS_PORT: 'off' });
    try {
      expect(off.app.metricsUrl).toBeUndefined();
    } finally {
      await off.close();
    }
    const holder = await startTestServer('sqlite');
    try {
      const port = new URL(holder.metricsUrl).port;
      await expect(startTestServer('sqlite', { ORDERCAST_METRICS_PORT: port })).rejects.toThrow(`Cannot serve metrics on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      await holder.close();
    }
  });
});
