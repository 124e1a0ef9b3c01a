import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { eventually, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

describe.each(testDialects)('endpoint health (%s)', (dialect) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    server = await startTestServer(dialect, {
      ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
      ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
      ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,300ms,300ms,300ms,300ms,300ms,300ms,300ms',
      ORDERCAST_WEBHOOK_RETRY_JITTER: '0',
      // Five days in production; one second here.
      ORDERCAST_WEBHOOK_DISABLE_AFTER: '1s',
    });
    receiver = await startReceiver(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it('disables an endpoint that fails continuously for the configured time, visibly, and can be re-enabled', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const endpoint = await api.createEndpoint(receiver.url);
    // The project's other endpoint hears about it.
    const ops = await startReceiver();
    await api.createEndpoint(ops.url, { enabledEvents: ['WEBHOOK_ENDPOINT_DISABLED'] });
    const order = await api.createOrder();
    const disabled = await eventually(
      async () => {
        const e = await api.endpoint(endpoint.id);
        return e.disabled ? e : undefined;
      },
      10_000,
      'the endpoint to be disabled',
    );
    expect(disabled.disabledReason).toMatch(/^every attempt failed since /);
    expect(disabled.failingSince).not.toBeNull();
    const [notice] = await ops.waitForCount(1);
    expect(JSON.parse(notice!.body)).toMatchObject({
      eventName: 'endpoint.disabled',
      data: { object: 'webhook_endpoint', id: endpoint.id, disabled: true, disabledReason: disabled.disabledReason },
    });
    await ops.close();
    const [delivery] = await api.deliveries(`&endpointId=${endpoint.id}`);
    const detail = await api.settled(delivery.id);
    expect(detail.status).toBe('failed');
    // Disabled for failing over the configured second, not for running out of retries: how
    // many attempts fit in that second depends on the machine's load, the span does not.
    // (The decision uses the time each failure is recorded, a little after its attempt began.)
    expect(detail.attempts.length).toBeGreaterThanOrEqual(2);
    expect(detail.attempts.length).toBeLessThan(8);
    const started = detail.attempts.map((attempt: { attemptedAt: string }) => Date.parse(attempt.attemptedAt));
    expect(Math.max(...started) - Math.min(...started)).toBeGreaterThanOrEqual(700);

    // Disabled: new events queue nothing for it.
    const before = receiver.requests.length;
    await api.transition(order.id, 'PROCESSING');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.requests.length).toBe(before);
    expect(await api.deliveries(`&endpointId=${endpoint.id}`)).toHaveLength(1);

    // The merchant fixes the receiver, re-enables and recovers.
    receiver.setHandler(() => ({ status: 200 }));
    const enabled = await api.request('PATCH', `/api/v2/webhook-endpoints/${endpoint.id}`, { disabled: false });
    expect(enabled.body).toMatchObject({ disabled: false, disabledReason: null, failingSince: null });
    const recovered = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/recover`, { since: new Date(Date.now() - 60_000).toISOString() });
    expect(recovered.body.requeued).toBe(1);
    expect((await api.settled(delivery.id)).status).toBe('succeeded');
  });

  it('refuses redeliver and test events for a disabled endpoint with a clear error', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    const endpoint = await api.createEndpoint(receiver.url, { disabled: true });
    const test = await api.request('POST', `/api/v2/webhook-endpoints/${endpoint.id}/test`);
    expect(test.status).toBe(409);
    expect(test.body.error.code).toBe('webhook_endpoint_disabled');
  });
});
