import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../src/core.js';
import { loadConfig } from '../src/config.js';
import type { CreatedProject } from '../src/services/project-service.js';
import { connectSocket, createOrder, emitWithAck, newCentrifuge, setStatus, userToken, waitFor } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * A write the server's broker never hears of (another process on the same
 * database, no shared broker, log tail off) leaves a gap; the next event that
 * does arrive must not jump over it: the gap is read from the log first.
 */
describe('gap filling from the event log', () => {
  let server: TestServer;
  let outsider: Core;
  let project: CreatedProject;

  beforeAll(async () => {
    // No order cache: a subscribe then reads the order from the database, which may be ahead of the follower.
    server = await startTestServer('sqlite', { ORDERCAST_EVENT_POLL_MS: '0', ORDERCAST_ORDER_CACHE_MB: '0' });
    // A second set of services on the same SQLite file, with its own in-process broker.
    outsider = await createCore(loadConfig({ dataDir: server.dataDir }, {}), { logger: pino({ level: 'silent' }) });
    project = await server.createProject('store');
  });
  afterAll(async () => {
    await outsider?.close();
    await server?.close();
  });

  it('delivers the missed update before the newer one, on both gateways', async () => {
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'gap-user' });
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    const updates: string[] = [];
    socket.on('order:update', (u) => updates.push(`${u.version}:${u.status}`));
    await emitWithAck(socket, 'subscribe:order', { orderId });
    const client = newCentrifuge(server, {
      user_external_id: 'gap-user',
      auth: await userToken(server, project.secretKey, 'gap-user'),
      project_id: project.project.id,
    });
    const pubs: string[] = [];
    client.on('publication', (ctx) => pubs.push(`${ctx.offset}:${ctx.data.status}`));
    client.connect();
    await client.ready(5000);

    await outsider.orders.transition(project.project.id, orderId, { status: 'paid' }); // the server is not told
    await new Promise((r) => setTimeout(r, 300));
    expect(updates).toEqual([]);
    await setStatus(server, project.secretKey, orderId, 'done'); // the server is told: version 3 after 1
    await waitFor(() => updates.length === 2 && pubs.length === 2, 'both updates on both gateways');
    expect(updates).toEqual(['2:paid', '3:done']);
    expect(pubs).toEqual(['2:paid', '3:done']);
    socket.close();
    client.disconnect();
  });

  it('sends nothing twice to a socket that subscribed while the follower had not yet passed the version it read', async () => {
    const orderId = await createOrder(server, project.secretKey);
    await outsider.orders.transition(project.project.id, orderId, { status: 'paid' }); // the server is not told
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    const updates: string[] = [];
    socket.on('order:update', (u) => updates.push(`${u.version}:${u.status}`));
    // The ack's order is read from the database: version 2, which the server's follower has not handed on yet.
    const ack = await emitWithAck(socket, 'subscribe:order', { orderId });
    expect(ack.version).toBe(2);
    await setStatus(server, project.secretKey, orderId, 'done'); // the follower now reads versions 2 and 3
    await waitFor(() => updates.includes('3:done'), 'the newer update');
    // One socket's updates arrive in order: a repeat of version 2 would have come before version 3.
    expect(updates).toEqual(['3:done']);
    socket.close();
  });
});
