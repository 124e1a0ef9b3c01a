import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrdercastError } from '../src/domain/errors.js';
import { registerErrorHandling } from '../src/http/error-handler.js';
import { registerJsonBodyParser } from '../src/http/json-body.js';
import { adminProjectQuotaRoutes } from '../src/http/routes/admin-project-quotas.js';
import { registerValidators } from '../src/http/schema-compilers.js';
import { errorSchema } from '../src/http/schemas.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { testDialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * The admin quota routes as the admin API will mount them: a plugin on a Fastify server
 * of the caller's, behind the caller's credential check (here a stand-in preHandler), over
 * the running server's own ProjectQuotaService, so a change applies to its traffic.
 */
async function adminServer(server: TestServer): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  registerErrorHandling(app, 1024 * 1024);
  registerJsonBodyParser(app);
  registerValidators(app);
  app.addSchema(errorSchema);
  await app.register(adminProjectQuotaRoutes, {
    quotas: server.app.projectQuotas,
    preHandler: (request, _reply, done) => {
      if (request.headers.authorization !== 'Bearer ak_stand_in') return done(new OrdercastError('forbidden', 'An admin key is required'));
      done();
    },
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

describe.each(testDialects)('GET and PATCH /api/v2/admin/projects/{id}/quotas on %s', (dialect) => {
  let server: TestServer;
  let admin: { app: FastifyInstance; url: string };
  let project: CreatedProject;
  beforeAll(async () => {
    server = await startTestServer(dialect);
    admin = await adminServer(server);
    project = await server.createProject('store');
  });
  afterAll(async () => {
    await admin?.app.close();
    await server?.close();
  });

  const call = async (method: string, projectId: string, body?: unknown, key = 'ak_stand_in') => {
    const response = await fetch(`${admin.url}/api/v2/admin/projects/${projectId}/quotas`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  it("reads the defaults, sets and clears overrides, and the project's own traffic follows at once", async () => {
    const id = project.project.id;
    const initial = await call('GET', id);
    expect(initial.status).toBe(200);
    expect(initial.body).toMatchObject({ object: 'project_quotas', projectId: id, overrides: {} });
    expect(initial.body.quotas).toEqual(initial.body.defaults);

    const set = await call('PATCH', id, { writes_per_second: 2, metadata_bytes: 64 });
    expect(set.status).toBe(200);
    expect(set.body.overrides).toEqual({ writes_per_second: 2, metadata_bytes: 64 });
    expect(set.body.quotas).toMatchObject({ writes_per_second: 2, metadata_bytes: 64, open_connections: initial.body.defaults.open_connections });
    const refused = await server.request('POST', '/api/v2/orders', { key: project.secretKey, body: { metadata: { note: 'x'.repeat(100) } } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.details).toMatchObject({ quota: 'metadata_bytes', limit: 64 });
    const shown = await server.request('GET', '/api/v2/project', { key: project.secretKey });
    expect(shown.body.quotas).toMatchObject({ writes_per_second: 2, metadata_bytes: 64 });

    // Quotas not named keep their override; null returns one to the default.
    const cleared = await call('PATCH', id, { metadata_bytes: null });
    expect(cleared.body.overrides).toEqual({ writes_per_second: 2 });
    expect(cleared.body.quotas.metadata_bytes).toBe(initial.body.defaults.metadata_bytes);
    expect((await call('GET', id)).body.overrides).toEqual({ writes_per_second: 2 });
  });

  it.each([
    ['zero', { writes_per_second: 0 }, 'writes_per_second'],
    ['negative', { open_connections: -5 }, 'open_connections'],
    ['not whole', { webhook_endpoints: 2.5 }, 'webhook_endpoints'],
    ['huge', { writes_per_second: 10 ** 12 }, 'writes_per_second'],
    ['over the server limit', { metadata_bytes: 1024 * 1024 }, 'metadata_bytes'],
    ['a string', { open_connections: '10' }, 'open_connections'],
  ])('refuses a quota that is %s with 400 invalid_quota naming the field, changing nothing', async (_name, body, field) => {
    const before = (await call('GET', project.project.id)).body;
    // With a valid change beside the bad one: nothing is half applied.
    const answer = await call('PATCH', project.project.id, { metadata_bytes: before.quotas.metadata_bytes - 1, ...body });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_quota', details: { field } });
    expect(answer.body.error.message).toContain(field);
    expect((await call('GET', project.project.id)).body).toEqual(before);
  });

  it('refuses an unknown quota name with 400 listing the valid ones', async () => {
    const answer = await call('PATCH', project.project.id, { requests_per_day: 10 });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_quota');
    expect(answer.body.error.details).toEqual({
      field: 'requests_per_day',
      validQuotas: ['writes_per_second', 'open_connections', 'webhook_endpoints', 'metadata_bytes'],
    });
    // The body's schema says it is an object of quotas.
    const notAnObject = await call('PATCH', project.project.id, [1, 2]);
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.body.error.code).toBe('validation_failed');
  });

  it("answers 404 for an unknown project, and the caller's preHandler guards both routes", async () => {
    expect((await call('GET', 'prj_missing')).body.error.code).toBe('project_not_found');
    expect((await call('PATCH', 'prj_missing', { writes_per_second: 5 })).status).toBe(404);
    expect((await call('GET', project.project.id, undefined, project.secretKey)).status).toBe(403);
    expect((await call('PATCH', project.project.id, { writes_per_second: 5 }, project.secretKey)).status).toBe(403);
  });
});
