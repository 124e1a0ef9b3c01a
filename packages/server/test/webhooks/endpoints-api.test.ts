import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../../src/services/project-service.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe.each(testDialects)('webhook endpoints API (%s)', (dialect) => {
  let server: TestServer;
  let strict: TestServer;
  let project: CreatedProject;
  let strictProject: CreatedProject;

  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_DISPATCH: 'false' });
    strict = await startTestServer(dialect, { ORDERCAST_WEBHOOK_DISPATCH: 'false' });
    project = await server.createProject('onramp');
    strictProject = await strict.createProject('onramp');
  });
  afterAll(async () => {
    await server?.close();
    await strict?.close();
  });

  it('creates an endpoint and returns its whsec_ secret once, never in get or list', async () => {
    const created = await server.request('POST', '/api/v2/webhook-endpoints', {
      key: project.secretKey,
      body: { url: 'https://example.com/hooks', description: 'prod', enabledEvents: ['ORDER_COMPLETED', 'ORDER_FAILED'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'webhook_endpoint',
      url: 'https://example.com/hooks',
      description: 'prod',
      enabledEvents: ['ORDER_COMPLETED', 'ORDER_FAILED'],
      disabled: false,
    });
    expect(created.body.secret).toMatch(/^whsec_/);
    const bytes = Buffer.from(created.body.secret.slice(6), 'base64').length;
    expect(bytes).toBeGreaterThanOrEqual(24);
    expect(bytes).toBeLessThanOrEqual(64);

    const got = await server.request('GET', `/api/v2/webhook-endpoints/${created.body.id}`, { key: project.secretKey });
    expect(got.status).toBe(200);
    expect(got.text).not.toContain('whsec_');
    const list = await server.request('GET', '/api/v2/webhook-endpoints', { key: project.secretKey });
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(created.body.id);
    expect(list.text).not.toContain('whsec_');
  });

  it('defaults enabledEvents to every event, updates and deletes', async () => {
    const created = await server.request('POST', '/api/v2/webhook-endpoints', { key: project.secretKey, body: { url: 'https://example.com/all' } });
    expect(created.body.enabledEvents).toEqual(['*']);
    const patched = await server.request('PATCH', `/api/v2/webhook-endpoints/${created.body.id}`, {
      key: project.secretKey,
      body: { disabled: true, enabledEvents: ['ORDER_CREATED'], description: 'paused' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ disabled: true, enabledEvents: ['ORDER_CREATED'], description: 'paused', disabledReason: 'disabled by the API' });
    const enabled = await server.request('PATCH', `/api/v2/webhook-endpoints/${created.body.id}`, { key: project.secretKey, body: { disabled: false } });
    expect(enabled.body).toMatchObject({ disabled: false, disabledReason: null });
    const deleted = await server.request('DELETE', `/api/v2/webhook-endpoints/${created.body.id}`, { key: project.secretKey });
    expect(deleted.body).toEqual({ id: created.body.id, object: 'webhook_endpoint', deleted: true });
    const gone = await server.request('GET', `/api/v2/webhook-endpoints/${created.body.id}`, { key: project.secretKey });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('webhook_endpoint_not_found');
  });

  it("does not show one project's endpoints to another", async () => {
    const other = await server.createProject('onramp', 'Other');
    const created = await server.request('POST', '/api/v2/webhook-endpoints', { key: project.secretKey, body: { url: 'https://example.com/mine' } });
    const peek = await server.request('GET', `/api/v2/webhook-endpoints/${created.body.id}`, { key: other.secretKey });
    expect(peek.status).toBe(404);
    const publishable = await server.request('GET', '/api/v2/webhook-endpoints', { key: project.publishableKey });
    expect(publishable.status).toBe(403);
  });

  it.each([
    ['not a URL', 'not a url', 'invalid_webhook_url'],
    ['ftp://', 'ftp://example.com/hook', 'invalid_webhook_url'],
    ['http:// without the private setting', 'http://example.com/hook', 'invalid_webhook_url'],
    ['127.0.0.1', 'https://127.0.0.1/hook', 'webhook_url_not_allowed'],
    ['10.0.0.1', 'https://10.0.0.1/hook', 'webhook_url_not_allowed'],
    ['169.254.169.254 (metadata)', 'https://169.254.169.254/latest/meta-data', 'webhook_url_not_allowed'],
    ['an IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/hook', 'webhook_url_not_allowed'],
    ['IPv6 loopback', 'https://[::1]/hook', 'webhook_url_not_allowed'],
    ['100.64.0.1 (CGNAT)', 'https://100.64.0.1/hook', 'webhook_url_not_allowed'],
    ['https://localhost', 'https://localhost/hook', 'webhook_url_not_allowed'],
    ['https://localhost with a port', 'https://localhost:8443/hook', 'webhook_url_not_allowed'],
    ['a name under .localhost', 'https://shop.localhost/hook', 'webhook_url_not_allowed'],
    ['http://localhost', 'http://localhost/hook', 'webhook_url_not_allowed'],
  ])('refuses %s with a clear error', async (_what, url, code) => {
    const response = await strict.request('POST', '/api/v2/webhook-endpoints', { key: strictProject.secretKey, body: { url } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message.length).toBeGreaterThan(20);
  });

  it('refuses http://localhost and https://localhost with the same message, and accepts both when private targets are allowed', async () => {
    const refusals = await Promise.all(
      ['http://localhost/hook', 'https://localhost/hook', 'https://LOCALHOST./hook'].map((url) =>
        strict.request('POST', '/api/v2/webhook-endpoints', { key: strictProject.secretKey, body: { url } }),
      ),
    );
    const messages = refusals.map((r) => r.body.error.message);
    expect(messages[0]).toBe(
      'localhost is a loopback address: webhooks may only target public addresses (ORDERCAST_WEBHOOK_ALLOW_PRIVATE=true allows private ones, for local development)',
    );
    expect(messages[1]).toBe(messages[0]);
    expect(refusals.map((r) => r.body.error.details)).toContainEqual({ field: 'url', address: 'localhost', range: 'loopback' });
    const edit = await strict.request('POST', '/api/v2/webhook-endpoints', { key: strictProject.secretKey, body: { url: 'https://example.com/hook' } });
    const moved = await strict.request('PATCH', `/api/v2/webhook-endpoints/${edit.body.id}`, {
      key: strictProject.secretKey,
      body: { url: 'https://localhost/hook' },
    });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toBe(messages[0]);
    for (const url of ['http://localhost:9/hook', 'https://localhost:9/hook']) {
      const allowed = await server.request('POST', '/api/v2/webhook-endpoints', { key: project.secretKey, body: { url } });
      expect(allowed.status).toBe(201);
    }
  });

  it('refuses an unknown event name, naming the lifecycle events', async () => {
    const response = await server.request('POST', '/api/v2/webhook-endpoints', {
      key: project.secretKey,
      body: { url: 'https://example.com/hooks', enabledEvents: ['ORDER_COMPLETED', 'ORDER_SHIPPED'] },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('unknown_event_name');
    expect(response.body.error.details.unknown).toEqual(['ORDER_SHIPPED']);
    expect(response.body.error.details.eventNames).toContain('ORDER_CREATED');
  });

  it('rotates the secret, returning a new one and when the old one stops signing', async () => {
    const created = await server.request('POST', '/api/v2/webhook-endpoints', { key: project.secretKey, body: { url: 'https://example.com/rot' } });
    const before = Date.now();
    const rotated = await server.request('POST', `/api/v2/webhook-endpoints/${created.body.id}/rotate-secret`, { key: project.secretKey, body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    const expires = Date.parse(rotated.body.previousSecretExpiresAt) - before;
    expect(expires).toBeGreaterThan(23.9 * 3600_000);
    expect(expires).toBeLessThan(24.1 * 3600_000);
  });

  it('documents the webhook routes in the OpenAPI document', async () => {
    const doc = await server.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    for (const route of [
      '/api/v2/webhook-endpoints',
      '/api/v2/webhook-endpoints/{id}',
      '/api/v2/webhook-endpoints/{id}/rotate-secret',
      '/api/v2/webhook-endpoints/{id}/test',
      '/api/v2/webhook-endpoints/{id}/recover',
      '/api/v2/webhook-deliveries',
      '/api/v2/webhook-deliveries/{id}',
      '/api/v2/webhook-deliveries/{id}/redeliver',
      '/api/v2/events',
    ]) {
      expect(doc.body.paths[route], route).toBeDefined();
    }
  });

  it('answers 404 with a stable code for unknown deliveries, also on redeliver', async () => {
    const redeliver = await server.request('POST', '/api/v2/webhook-deliveries/msg_nope/redeliver', { key: project.secretKey });
    expect(redeliver.status).toBe(404);
    expect(redeliver.body.error.code).toBe('webhook_delivery_not_found');
    const get = await server.request('GET', '/api/v2/webhook-deliveries/msg_nope', { key: project.secretKey });
    expect(get.body.error.code).toBe('webhook_delivery_not_found');
    const recover = await server.request('POST', '/api/v2/webhook-endpoints/we_nope/recover', {
      key: project.secretKey,
      body: { since: '2026-01-01T00:00:00Z' },
    });
    expect(recover.body.error.code).toBe('webhook_endpoint_not_found');
  });
});
