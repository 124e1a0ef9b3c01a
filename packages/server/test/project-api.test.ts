import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe.each(testDialects)('GET /api/v2/project on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(dialect);
  });
  afterAll(async () => server?.close());

  it("answers the secret key's own project: lifecycle and key prefixes, never a key or the token secret", async () => {
    const created = await server.createProject('store', 'Game shop');
    await server.createProject('onramp', 'Another tenant');
    const { status, body, text } = await server.request('GET', '/api/v2/project', { key: created.secretKey });
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: created.project.id, object: 'project', name: 'Game shop' });
    expect(body.lifecycle).toMatchObject({ name: 'store', initial: ['new'], final: ['done', 'canceled'], transitions: { new: ['paid', 'canceled'] } });
    expect(body.keys.map((k: { kind: string; prefix: string }) => [k.kind, k.prefix])).toEqual([
      ['secret', created.secretKey.slice(0, 11)],
      ['publishable', created.publishableKey.slice(0, 11)],
    ]);
    expect(text).not.toContain(created.secretKey);
    expect(text).not.toContain(created.tokenSecret);
    expect(text).not.toContain('keyHash');
  });

  it('shows a rotated key with its end of grace, and drops it once expired', async () => {
    const created = await server.createProject('store');
    const rotated = await server.app.projects.rotateKey(created.project.id, 'secret', 3600);
    const { body } = await server.request('GET', '/api/v2/project', { key: rotated.key });
    const secrets = body.keys.filter((k: { kind: string }) => k.kind === 'secret');
    expect(secrets.map((k: { prefix: string; expiresAt: string | null }) => [k.prefix, k.expiresAt])).toEqual([
      [created.secretKey.slice(0, 11), rotated.oldKeysExpireAt],
      [rotated.key.slice(0, 11), null],
    ]);
    const again = await server.app.projects.rotateKey(created.project.id, 'secret', 0);
    const after = await server.request('GET', '/api/v2/project', { key: again.key });
    expect(after.body.keys.filter((k: { kind: string }) => k.kind === 'secret').map((k: { prefix: string }) => k.prefix)).toEqual([again.key.slice(0, 11)]);
  });

  it('refuses a publishable key, an unknown key and no key in the standard error shape', async () => {
    const created = await server.createProject('store');
    const publishable = await server.request('GET', '/api/v2/project', { key: created.publishableKey });
    expect(publishable.status).toBe(403);
    expect(publishable.body.error.code).toBe('forbidden');
    const unknown = await server.request('GET', '/api/v2/project', { key: `sk_${'0'.repeat(40)}` });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('unauthorized');
    expect((await server.request('GET', '/api/v2/project')).status).toBe(401);
  });

  it('is in the OpenAPI document', async () => {
    const { body } = await server.request('GET', '/openapi.json');
    expect(body.paths['/api/v2/project'].get.summary).toBe("The secret key's project");
  });
});
