import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSender, MAX_RESPONSE_BODY_BYTES } from '../../src/webhooks/http-sender.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

describe('outbound HTTP limits (real sockets)', () => {
  let silent: net.Server;
  const silentSockets = new Set<net.Socket>();
  let receiver: WebhookReceiver;
  const sender = new HttpSender({ allowPrivate: true, timeout: 1500, connectTimeout: 500, userAgent: 'Ordercast/test' });

  beforeAll(async () => {
    // Accepts TCP connections and never says a word: a TLS handshake to it cannot finish.
    silent = net.createServer((socket) => {
      silentSockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    receiver = await startReceiver((req) => {
      if (req.path === '/hang') return { hang: true };
      if (req.path === '/big') return { status: 500, streamBytes: 10 * 1024 * 1024 };
      if (req.path === '/redirect') return { status: 308, headers: { location: '/elsewhere' } };
      return { status: 200, body: 'ok' };
    }, '/');
  });
  afterAll(async () => {
    await sender.close();
    await receiver.close();
    for (const socket of silentSockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('gives up connecting after the connect timeout (TLS handshake included)', async () => {
    const result = await sender.post(`https://127.0.0.1:${(silent.address() as AddressInfo).port}/`, {}, '{}');
    expect(result.errorCode).toBe('connect_timeout');
    expect(result.durationMs).toBeGreaterThanOrEqual(450);
    expect(result.durationMs).toBeLessThan(1400);
  });

  it('gives up waiting for an answer after the total timeout', async () => {
    const result = await sender.post(`http://127.0.0.1:${receiver.port}/hang`, {}, '{}');
    expect(result).toMatchObject({ statusCode: null, errorCode: 'timeout' });
    expect(result.durationMs).toBeGreaterThanOrEqual(1400);
    expect(result.durationMs).toBeLessThan(3000);
  });

  it('keeps the status and the first 4 KiB of a large error body', async () => {
    const result = await sender.post(`http://127.0.0.1:${receiver.port}/big`, {}, '{}');
    expect(result.statusCode).toBe(500);
    expect(result.body).toHaveLength(MAX_RESPONSE_BODY_BYTES);
  });

  it('reports a redirect as it is, without following it', async () => {
    const before = receiver.requests.length;
    const result = await sender.post(`http://127.0.0.1:${receiver.port}/redirect`, {}, '{}');
    expect(result.statusCode).toBe(308);
    expect(result.headers?.location).toBe('/elsewhere');
    expect(receiver.requests.length).toBe(before + 1);
  });

  it('sends the signature headers, the user agent and a JSON content type', async () => {
    await sender.post(`http://127.0.0.1:${receiver.port}/ok`, { 'webhook-id': 'msg_x', 'webhook-timestamp': '1', 'webhook-signature': 'v1,abc' }, '{"a":1}');
    const last = receiver.requests[receiver.requests.length - 1]!;
    expect(last.headers).toMatchObject({ 'webhook-id': 'msg_x', 'user-agent': 'Ordercast/test', 'content-type': 'application/json' });
    expect(last.body).toBe('{"a":1}');
  });
});
