import { SignJWT } from 'jose';
import { startTestServer, type TestServer } from '../../../server/test/helpers/test-server.js';
import type { Order } from '../../src/types.js';

/** A real Ordercast server with one `onramp` project, and the few calls the client tests need. */
export interface Ordercast {
  server: TestServer;
  baseUrl: string;
  secretKey: string;
  publishableKey: string;
  tokenSecret: string;
  projectId: string;
  createOrder(body?: Record<string, unknown>): Promise<Order>;
  setStatus(orderId: string, status: string): Promise<Order>;
  userToken(userExternalId: string, expiresInSeconds?: number): Promise<string>;
  /** A new order link (`POST /api/v2/orders/{id}/links`): its `olt_…` token, the part of its URL after `/o/`. */
  orderLink(orderId: string): Promise<string>;
  /** Revokes every link of the order (`DELETE /api/v2/orders/{id}/links`). */
  revokeLinks(orderId: string): Promise<void>;
  /** Sets the project's branding (`PATCH /api/v2/project/branding`), as its link pages show it. */
  setBranding(branding: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startOrdercast(env: Record<string, string> = {}): Promise<Ordercast> {
  const server = await startTestServer('sqlite', env);
  const created = await server.createProject('onramp');
  const ok = <T>(response: { status: number; body: T; text: string }, expected: number) => {
    if (response.status !== expected) throw new Error(`expected HTTP ${expected}, got ${response.status}: ${response.text}`);
    return response.body;
  };
  return {
    server,
    baseUrl: server.baseUrl,
    secretKey: created.secretKey,
    publishableKey: created.publishableKey,
    tokenSecret: created.tokenSecret,
    projectId: created.project.id,
    createOrder: async (body = { status: 'AWAITING_PAYMENT_FROM_USER' }) =>
      ok(await server.request<Order>('POST', '/api/v2/orders', { key: created.secretKey, body }), 201),
    async setStatus(orderId, status) {
      // Tests that turn the rate limit down still need their writes to land.
      for (;;) {
        const response = await server.request<Order>('POST', `/api/v2/orders/${orderId}/status`, { key: created.secretKey, body: { status } });
        if (response.status !== 429) return ok(response, 200);
        await new Promise((r) => setTimeout(r, Number(response.headers.get('retry-after') ?? 1) * 1000));
      }
    },
    // Signed the way a merchant backend signs them, so the test can also mint already-expired ones.
    userToken: (userExternalId, expiresInSeconds = 3600) =>
      new SignJWT({ pid: created.project.id })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userExternalId)
        .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
        .sign(new TextEncoder().encode(created.tokenSecret)),
    async orderLink(orderId) {
      const link = ok(await server.request<{ url: string }>('POST', `/api/v2/orders/${orderId}/links`, { key: created.secretKey }), 201);
      return new URL(link.url).pathname.slice('/o/'.length);
    },
    async revokeLinks(orderId) {
      ok(await server.request('DELETE', `/api/v2/orders/${orderId}/links`, { key: created.secretKey }), 200);
    },
    async setBranding(branding) {
      ok(await server.request('PATCH', '/api/v2/project/branding', { key: created.secretKey, body: branding }), 200);
    },
    close: () => server.close(),
  };
}
