import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, sign, signatureHeaders } from '../../src/lib/standard-webhooks.js';

// The vector every Standard Webhooks library tests ("sign function works").
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  expected: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signing', () => {
  it('reproduces the published test vector', () => {
    expect(sign(VECTOR.secret, VECTOR.msgId, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.expected);
    expect(new Webhook(VECTOR.secret).sign(VECTOR.msgId, new Date(VECTOR.timestamp * 1000), VECTOR.payload)).toBe(VECTOR.expected);
  });

  it('produces headers the standardwebhooks library verifies, and it rejects a changed body', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ id: 'evt_1', eventName: 'ORDER_COMPLETED', data: { id: 'ord_1' } });
    const headers = signatureHeaders([secret], 'msg_abc', Math.floor(Date.now() / 1000), body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('COMPLETED', 'FAILED'), { ...headers })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it('signs with every secret during a rotation, and either secret verifies', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const body = '{"x":1}';
    const headers = signatureHeaders([newSecret, oldSecret], 'msg_rot', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, { ...headers })).toEqual({ x: 1 });
    expect(new Webhook(newSecret).verify(body, { ...headers })).toEqual({ x: 1 });
  });

  it('makes secrets of whsec_ + base64 of 24 to 64 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(Buffer.from(generateSecret(24).slice(6), 'base64')).toHaveLength(24);
    expect(() => generateSecret(16)).toThrow(RangeError);
    expect(generateSecret()).not.toBe(secret);
  });
});
