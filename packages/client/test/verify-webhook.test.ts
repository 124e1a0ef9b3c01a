import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../src/verify.js';

// The test vector of the Standard Webhooks specification.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = '1614265330';
const payload = '{"test": 2432232314}';
const signature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const at = { now: Number(timestamp) * 1000 };

function headers(overrides: Record<string, string | undefined> = {}) {
  const all: Record<string, string | undefined> = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature, ...overrides };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  throw new Error('verification passed but should have failed');
}

describe('verifyWebhook', () => {
  it('accepts the Standard Webhooks test vector and returns the parsed body', () => {
    expect(verifyWebhook(payload, headers(), secret, at)).toEqual({ test: 2432232314 });
  });

  it('takes the body as string, Buffer or Uint8Array, and headers as Headers, objects or Node arrays', () => {
    const bytes = new TextEncoder().encode(payload);
    expect(verifyWebhook(Buffer.from(payload), headers(), secret, at)).toEqual({ test: 2432232314 });
    expect(verifyWebhook(bytes, new Headers(headers()), secret, at)).toEqual({ test: 2432232314 });
    const nodeStyle = { 'Webhook-Id': id, 'webhook-timestamp': [timestamp], 'webhook-signature': signature, host: 'x' };
    expect(verifyWebhook(payload, nodeStyle, secret, at)).toEqual({ test: 2432232314 });
  });

  it('names the missing header', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      let message = '';
      try {
        verifyWebhook(payload, headers({ [name]: undefined }), secret, at);
      } catch (error) {
        expect((error as WebhookVerificationError).code).toBe('missing_header');
        message = (error as Error).message;
      }
      expect(message).toContain(name);
    }
  });

  it('refuses a timestamp that is not a number, too old or too new', () => {
    expect(failure(() => verifyWebhook(payload, headers({ 'webhook-timestamp': 'hello' }), secret, at))).toBe('invalid_timestamp');
    expect(failure(() => verifyWebhook(payload, headers(), secret, { now: (Number(timestamp) + 301) * 1000 }))).toBe('timestamp_too_old');
    expect(failure(() => verifyWebhook(payload, headers(), secret, { now: (Number(timestamp) - 301) * 1000 }))).toBe('timestamp_too_new');
    expect(failure(() => verifyWebhook(payload, headers(), secret))).toBe('timestamp_too_old');
    expect(verifyWebhook(payload, headers(), secret, { now: (Number(timestamp) + 299) * 1000 })).toEqual({ test: 2432232314 });
  });

  it('refuses truncated, empty, foreign-scheme and tampered signatures', () => {
    expect(failure(() => verifyWebhook(payload, headers({ 'webhook-signature': signature.slice(0, -4) }), secret, at))).toBe('invalid_signature');
    expect(failure(() => verifyWebhook(payload, headers({ 'webhook-signature': 'v1,' }), secret, at))).toBe('invalid_signature');
    expect(failure(() => verifyWebhook(payload, headers({ 'webhook-signature': signature.replace('v1,', 'v2,') }), secret, at))).toBe('invalid_signature');
    expect(failure(() => verifyWebhook('{"test": 2432232315}', headers(), secret, at))).toBe('invalid_signature');
    expect(failure(() => verifyWebhook(payload, headers({ 'webhook-id': 'msg_other' }), secret, at))).toBe('invalid_signature');
    expect(failure(() => verifyWebhook(payload, headers(), 'whsec_' + Buffer.from('another secret').toString('base64'), at))).toBe('invalid_signature');
  });

  it('passes when any one of several signatures matches (secret rotation)', () => {
    const wrong = 'v1,' + Buffer.alloc(32, 7).toString('base64');
    expect(verifyWebhook(payload, headers({ 'webhook-signature': `${wrong} v1a,abc ${signature}` }), secret, at)).toEqual({ test: 2432232314 });
  });

  it('refuses a secret that is not whsec_ + base64', () => {
    expect(failure(() => verifyWebhook(payload, headers(), 'whsec_not base64!', at))).toBe('invalid_secret');
  });

  it('agrees with the standardwebhooks library on what it signs', () => {
    const library = new Webhook(secret);
    const now = new Date();
    const body = JSON.stringify({
      id: 'evt_1',
      eventName: 'ORDER_COMPLETED',
      createdAt: now.toISOString(),
      data: { id: 'ord_1', status: 'COMPLETED', version: 3 },
    });
    const signed = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': library.sign('msg_1', now, body),
    };
    const event = verifyWebhook(body, signed, secret);
    expect(event.eventName).toBe('ORDER_COMPLETED');
    expect(event.data.status).toBe('COMPLETED');
    // And the other way round: what we accept, the library accepts.
    expect(library.verify(body, signed)).toEqual(event);
    expect(failure(() => verifyWebhook(body + ' ', signed, secret))).toBe('invalid_signature');
  });

  it('says so when a correctly signed body is not JSON', () => {
    const library = new Webhook(secret);
    const now = new Date();
    const signed = {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': library.sign('msg_2', now, 'not json'),
    };
    expect(failure(() => verifyWebhook('not json', signed, secret))).toBe('invalid_payload');
  });
});
