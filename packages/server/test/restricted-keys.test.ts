import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRouteDeclaresPermission } from '../src/http/auth-hook.js';
import { PERMISSIONS, type Permission } from '../src/domain/permissions.js';
import { testDialects } from './helpers/databases.js';
import { connectSocket, createOrder, emitWithAck, newCentrifuge, waitFor } from './helpers/realtime.js';
import { RecordingEventSource, rawStream } from './helpers/sse.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

interface Operation {
  method: string;
  path: string;
  permission: Permission | undefined;
}

/** Every operation of the project API, as the server publishes it: a new route shows up here by itself. */
async function projectOperations(server: TestServer): Promise<Operation[]> {
  const spec = (await server.request('GET', '/openapi.json')).body;
  const operations: Operation[] = [];
  type Published = { tags?: string[]; 'x-permission'?: Permission; 'x-credentials'?: string[]; 'x-unrestricted-only'?: boolean };
  for (const [path, methods] of Object.entries<Record<string, Published>>(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      // Admin routes, public routes, a dashboard session's own routes, and those only the unrestricted secret key may call.
      if (!operation['x-credentials']?.includes('secret') || operation['x-unrestricted-only']) continue;
      operations.push({ method: method.toUpperCase(), path, permission: operation['x-permission'] });
    }
  }
  return operations;
}

/** The routes that only the project's unrestricted secret key may call (managing dashboard sessions). */
async function unrestrictedOnlyOperations(server: TestServer): Promise<Operation[]> {
  const spec = (await server.request('GET', '/openapi.json')).body;
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries<Record<string, { 'x-unrestricted-only'?: boolean }>>(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (operation['x-unrestricted-only']) operations.push({ method: method.toUpperCase(), path, permission: undefined });
    }
  }
  return operations;
}

/** Calls an operation with made-up ids: the permission is checked before anything else is. */
async function call(server: TestServer, operation: Operation, key: string): Promise<{ status: number; body: any }> {
  const url = operation.path.replace(/\{[^}]+\}/g, 'ord_doesnotexist');
  if (url.endsWith('/stream')) return rawStream(`${server.baseUrl}${url}`, { authorization: `Bearer ${key}` });
  const withBody = operation.method !== 'GET' && operation.method !== 'HEAD';
  return server.request(operation.method, url, { key, body: withBody ? {} : undefined });
}

describe.each(testDialects)('restricted keys (%s)', (dialect) => {
  let server: TestServer;
  let projectId: string;
  let secretKey: string;
  /** For each permission, a key with every permission but that one. */
  const lacking = new Map<Permission, string>();
  let everything: string;

  const issue = async (permissions: readonly Permission[]) => {
    const key = await server.app.projectKeys.create(projectId, { kind: 'restricted', permissions });
    return key.key;
  };

  beforeAll(async () => {
    server = await startTestServer(dialect);
    const project = await server.createProject('onramp', 'restricted keys');
    projectId = project.project.id;
    secretKey = project.secretKey;
    for (const permission of PERMISSIONS) lacking.set(permission, await issue(PERMISSIONS.filter((p) => p !== permission)));
    everything = await issue(PERMISSIONS);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('every project route declares a permission, and the server refuses to start a route that does not', async () => {
    const operations = await projectOperations(server);
    expect(operations.length).toBeGreaterThan(20);
    for (const operation of operations) expect(operation.permission, `${operation.method} ${operation.path}`).toBeOneOf([...PERMISSIONS]);
    // The same rule holds for routes not in the document: they are checked as they are registered.
    expect(() => assertRouteDeclaresPermission({ method: 'GET', url: '/api/v2/new-thing', config: { allow: ['secret'] } })).toThrow(
      /declares no config.permission/,
    );
    expect(() =>
      assertRouteDeclaresPermission({ method: 'GET', url: '/api/v2/new-thing', config: { allow: ['secret'], permission: 'orders:read' } }),
    ).not.toThrow();
  });

  it('refuses every REST and SSE route a key lacks the permission for with 403 permission_denied, naming it', async () => {
    for (const operation of await projectOperations(server)) {
      const permission = operation.permission as Permission;
      const refused = await call(server, operation, lacking.get(permission) as string);
      const what = `${operation.method} ${operation.path} without ${permission}`;
      expect(refused.status, what).toBe(403);
      expect(refused.body?.error, what).toMatchObject({ code: 'permission_denied', details: { permission } });
      expect(refused.body.error.message, what).toContain(permission);
      // A key that has it is let through (to whatever the made-up ids get).
      const admitted = await call(server, operation, everything);
      expect(admitted.body?.error?.code, `${operation.method} ${operation.path} with every permission`).not.toBe('permission_denied');
      expect(admitted.status, `${operation.method} ${operation.path} with every permission`).not.toBe(401);
    }
  });

  it('refuses a restricted key, even one with every permission, on the routes only the unrestricted secret key may call', async () => {
    const operations = await unrestrictedOnlyOperations(server);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toContain('GET /api/v2/dashboard-sessions');
    for (const operation of operations) {
      const refused = await call(server, operation, everything);
      expect(refused.status, `${operation.method} ${operation.path}`).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
      expect((await call(server, operation, secretKey)).status, `${operation.method} ${operation.path} with the secret key`).not.toBe(403);
    }
  });

  it('a read-only key reads orders and changes nothing', async () => {
    const readOnly = await issue(['orders:read', 'events:read', 'webhooks:read']);
    const orderId = await createOrder(server, secretKey, { externalId: 'bi-1' });
    expect((await server.request('GET', `/api/v2/orders/${orderId}`, { key: readOnly })).status).toBe(200);
    expect((await server.request('GET', '/api/v2/orders', { key: readOnly })).body.data.length).toBeGreaterThan(0);
    expect((await server.request('GET', '/api/v2/events', { key: readOnly })).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/api/v2/orders', {}],
      ['POST', `/api/v2/orders/${orderId}/status`, { status: 'paid' }],
      ['POST', '/api/v2/webhook-endpoints', { url: 'https://example.com/hook' }],
      ['POST', '/api/v2/tokens', { userExternalId: 'u' }],
    ] as const) {
      const res = await server.request(method, path, { key: readOnly, body });
      expect(res.status, path).toBe(403);
      expect(res.body.error.code).toBe('permission_denied');
    }
    // Nothing changed.
    expect((await server.request('GET', `/api/v2/orders/${orderId}`, { key: secretKey })).body.version).toBe(1);
  });

  it('Socket.IO: a key without orders:read cannot connect; without events:read it cannot follow the project', async () => {
    const refused = await connectSocket(server.baseUrl, { apiKey: lacking.get('orders:read') }).catch((error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused.data).toMatchObject({ code: 'permission_denied', message: expect.stringContaining('orders:read') });

    const orderId = await createOrder(server, secretKey, { externalId: 'socket-1' });
    const socket = await connectSocket(server.baseUrl, { apiKey: lacking.get('events:read') });
    try {
      expect(await emitWithAck(socket, 'subscribe:order', { orderId })).toMatchObject({ id: orderId });
      const feed = await emitWithAck(socket, 'subscribe:project');
      expect(feed).toMatchObject({ code: 'permission_denied', message: expect.stringContaining('events:read') });
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
    const full = await connectSocket(server.baseUrl, { apiKey: everything });
    try {
      expect(await emitWithAck(full, 'subscribe:project')).toMatchObject({ subscribed: true });
    } finally {
      full.close();
    }
  });

  it('SSE, with the eventsource client: a key without the permission is refused with 403', async () => {
    const orderId = await createOrder(server, secretKey, { externalId: 'sse-1' });
    const cases = [
      [`/api/v2/orders/${orderId}/stream`, 'orders:read'],
      ['/api/v2/stream', 'events:read'],
    ] as const;
    for (const [path, permission] of cases) {
      const refused = new RecordingEventSource(`${server.baseUrl}${path}`, { bearer: lacking.get(permission) });
      try {
        await waitFor(() => refused.closed, `${path} to be refused`);
        expect(refused.errors[0]?.code).toBe(403);
        expect(refused.opened).toBe(0);
      } finally {
        refused.close();
      }
    }
    const admitted = new RecordingEventSource(`${server.baseUrl}/api/v2/orders/${orderId}/stream`, { bearer: lacking.get('events:read') });
    try {
      await waitFor(() => admitted.versions.length > 0, 'the order stream to send the order');
    } finally {
      admitted.close();
    }
  });

  it('Centrifuge: a key without orders:read is closed with 3507 (permission denied), naming it; with it, it connects', async () => {
    const refused = newCentrifuge(server, { auth: lacking.get('orders:read') });
    try {
      const ended = new Promise<{ code: number; reason: string }>((resolve) => refused.on('disconnected', (ctx) => resolve(ctx)));
      refused.connect();
      expect(await ended).toMatchObject({ code: 3507, reason: expect.stringContaining('orders:read') });
    } finally {
      refused.disconnect();
    }
    const admitted = newCentrifuge(server, { auth: lacking.get('events:read') });
    try {
      await new Promise<void>((resolve, reject) => {
        admitted.once('connected', () => resolve());
        admitted.once('disconnected', (ctx) => reject(new Error(`refused: ${ctx.code} ${ctx.reason}`)));
        admitted.connect();
      });
    } finally {
      admitted.disconnect();
    }
  });

  it('a restricted key is refused on the admin API, and its permissions cannot grow', async () => {
    const res = await server.request('POST', `/api/v2/admin/projects/${projectId}/keys`, { key: everything, body: { kind: 'secret' } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });
});
