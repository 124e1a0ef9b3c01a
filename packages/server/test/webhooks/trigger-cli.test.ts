import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { runCli as runCliIn } from '../helpers/server-process.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { startReceiver, webhookHeaders, type WebhookReceiver } from '../helpers/webhook-receiver.js';

describe.each(testDialects)('ordercast trigger (%s)', (dialect) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let databaseFlags: string[];
  // SQLite finds the key file beside the database; PostgreSQL needs the variable, in the server and the CLI.
  const keyEnv: Record<string, string> = dialect === 'postgres' ? { ORDERCAST_ENCRYPTION_KEY: randomBytes(32).toString('base64') } : {};
  const runCli = (args: string[]) => runCliIn(args, keyEnv);
  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true', ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms', ...keyEnv });
    receiver = await startReceiver();
    databaseFlags = dialect === 'sqlite' ? ['--data-dir', server.dataDir] : ['--database-url', server.databaseUrl as string];
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it('creates a test order and walks it to the event; the running server sends its signed webhooks', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const endpoint = await api.createEndpoint(receiver.url);
    const result = runCli(['trigger', 'ORDER_COMPLETED', '--project', api.project.project.id, '--endpoint', endpoint.id, '--json', ...databaseFlags]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { order, deliveries } = JSON.parse(result.stdout);
    expect(order).toMatchObject({ status: 'COMPLETED', final: true, metadata: { ordercast_trigger: 'ORDER_COMPLETED' } });
    // The shortest walk: PROCESSING is an initial status too.
    expect(order.statusHistory.map((h: any) => h.status)).toEqual(['PROCESSING', 'COMPLETED']);
    expect(deliveries.map((d: any) => d.eventName)).toEqual(['ORDER_CREATED', 'ORDER_COMPLETED']);

    // Written by another process: the server's dispatcher finds and sends them, in order.
    const requests = await receiver.waitFor((r) => r.some((x) => JSON.parse(x.body).eventName === 'ORDER_COMPLETED'), 10_000, 'ORDER_COMPLETED');
    const verifier = new Webhook(endpoint.secret);
    const names = requests.map((r) => (verifier.verify(r.body, webhookHeaders(r)) as any).eventName);
    expect(names).toEqual(['ORDER_CREATED', 'ORDER_COMPLETED']);
    // A status entered by a transition only on a longer walk.
    const delivery = JSON.parse(runCli(['trigger', 'ORDER_PENDING_DELIVERY', '--project', api.project.project.id, '--json', ...databaseFlags]).stdout);
    expect(delivery.order.statusHistory.map((h: any) => h.status)).toEqual(['PROCESSING', 'PENDING_DELIVERY']);

    // The human form says what it did.
    const text = runCli(['trigger', 'ORDER_CANCELLED', '--project', api.project.project.id, ...databaseFlags]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Created test order ord_\S+ and walked it AWAITING_PAYMENT_FROM_USER -> CANCELLED/);
  });

  it('refuses an event the lifecycle cannot emit and an endpoint that would not receive it', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const unknown = runCli(['trigger', 'ORDER_SHIPPED', '--project', api.project.project.id, ...databaseFlags]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error \(unknown_event_type\): "ORDER_SHIPPED" is not an event/);
    const narrow = await api.createEndpoint(receiver.url, { enabledEvents: ['ORDER_FAILED'] });
    const filtered = runCli(['trigger', 'ORDER_COMPLETED', '--project', api.project.project.id, '--endpoint', narrow.id, ...databaseFlags]);
    expect(filtered.code).toBe(1);
    expect(filtered.stderr).toMatch(/^error \(unknown_event_name\): .* does not subscribe to ORDER_COMPLETED/);
    const missing = runCli(['trigger', 'ORDER_COMPLETED', '--project', api.project.project.id, '--endpoint', 'we_nope', ...databaseFlags]);
    expect(missing.stderr).toMatch(/^error \(webhook_endpoint_not_found\)/);
    // Nothing was created by the refused triggers.
    expect((await api.request('GET', '/api/v2/orders')).body.data).toHaveLength(0);
  });
});
