import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSender } from '../../src/webhooks/http-sender.js';
import { refusalReason } from '../../src/lib/ssrf-guard.js';
import { testDialects } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

describe('address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.1.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'ipv4Mapped'],
    ['::ffff:8.8.8.8', 'ipv4Mapped'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['ff02::1', 'multicast'],
    ['::7f00:1', 'ipv4Compatible'],
    ['::a00:1', 'ipv4Compatible'],
    ['::808:808', 'ipv4Compatible'],
    ['::a9fe:a9fe', 'cloud metadata'],
    ['::ffff:a9fe:a9fe', 'cloud metadata'],
    ['::ffff:0:7f00:1', 'rfc6145'],
    ['64:ff9b::7f00:1', 'nat64'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['64:ff9b:1::a00:1', 'nat64'],
    ['2002:7f00:1::1', '6to4'],
    ['2002:a83f:8110::', 'cloud metadata'],
    ['2001::1', 'teredo'],
    ['168.63.129.16', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['100.127.255.254', 'carrierGradeNat'],
  ])('refuses %s (%s) by default', (address, reason) => {
    expect(refusalReason(address, false)).toBe(reason);
  });

  it('allows public addresses', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(refusalReason(address, false)).toBeUndefined();
  });

  it('refuses platform addresses and IPv4-embedding IPv6 forms even with the private setting', () => {
    for (const address of ['168.63.129.16', '100.100.100.200', '::7f00:1', '64:ff9b::7f00:1', '2002:7f00:1::1', '::ffff:127.0.0.1']) {
      expect(refusalReason(address, true)).toBeDefined();
    }
  });

  it('opens loopback and private networks, but never metadata, multicast or unspecified, with the private setting', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '::1', 'fd12::1', '100.64.0.1']) expect(refusalReason(address, true)).toBeUndefined();
    for (const address of ['169.254.169.254', '0.0.0.0', '224.0.0.1']) expect(refusalReason(address, true)).toBeDefined();
  });
});

describe('the guard at connect time (real sockets)', () => {
  let receiver: WebhookReceiver;
  const strict = new HttpSender({ allowPrivate: false, timeout: 3000, connectTimeout: 2000, userAgent: 'test' });
  const open = new HttpSender({ allowPrivate: true, timeout: 3000, connectTimeout: 2000, userAgent: 'test' });

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await strict.close();
    await open.close();
  });

  it('refuses 127.0.0.1 without reaching the listening receiver', async () => {
    const result = await strict.post(`http://127.0.0.1:${receiver.port}/webhook`, {}, '{}');
    expect(result.errorCode).toBe('address_not_allowed');
    expect(result.error).toContain('127.0.0.1 is a loopback address');
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a host name that resolves to a private address', async () => {
    const result = await strict.post(`http://localhost:${receiver.port}/webhook`, {}, '{}');
    expect(result.errorCode).toBe('address_not_allowed');
    expect(result.error).toMatch(/localhost resolved to (127\.0\.0\.1|::1)/);
    expect(receiver.requests).toHaveLength(0);
  });

  it.each([
    '10.0.0.1',
    '169.254.169.254',
    '[::ffff:127.0.0.1]',
    '[::1]',
    '[::7f00:1]',
    '[::127.0.0.1]',
    '[64:ff9b::7f00:1]',
    '168.63.129.16',
    '100.100.100.200',
  ])('refuses %s before any packet is sent', async (host) => {
    const result = await strict.post(`http://${host}:${receiver.port}/webhook`, {}, '{}');
    expect(result.errorCode).toBe('address_not_allowed');
    expect(result.durationMs).toBeLessThan(1000);
  });

  it('reaches the same receiver when private targets are allowed', async () => {
    const result = await open.post(`http://localhost:${receiver.port}/webhook`, {}, '{}');
    expect(result.statusCode).toBe(200);
    expect(receiver.requests).toHaveLength(1);
  });
});

describe.each(testDialects)('the guard in the dispatcher (%s)', (dialect) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    server = await startTestServer(dialect, { ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0', ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it('records a refused attempt for an endpoint whose name resolves to loopback', async () => {
    const api = webhookApi(server, await server.createProject('onramp'));
    // `localhost` itself is refused when saved now; an endpoint saved before that (or a name
    // that resolves to loopback) is caught at connect time: the address it resolves to is refused.
    const endpoint = await api.createEndpoint('https://receiver.example.com/webhook');
    await server.app.store.db
      .updateTable('webhook_endpoints')
      .set({ url: `https://localhost:${receiver.port}/webhook` })
      .where('id', '=', endpoint.id)
      .execute();
    await api.createOrder();
    const [delivery] = await api.deliveries();
    const detail = await api.settled(delivery.id);
    expect(detail.status).toBe('failed');
    expect(detail.attempts[0]).toMatchObject({ outcome: 'failed', statusCode: null, errorCode: 'address_not_allowed' });
    expect(detail.attempts[0].error).toMatch(/localhost resolved to/);
    expect(receiver.requests).toHaveLength(0);
  });

  it.each(['https://[::7f00:1]/', 'https://[::ffff:7f00:1]/', 'https://[64:ff9b::a9fe:a9fe]/', 'https://168.63.129.16/', 'https://100.100.100.200/'])(
    'refuses to save %s',
    async (url) => {
      const api = webhookApi(server, await server.createProject('onramp'));
      const response = await server.request('POST', '/api/v2/webhook-endpoints', { key: api.project.secretKey, body: { url } });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('webhook_url_not_allowed');
    },
  );
});
