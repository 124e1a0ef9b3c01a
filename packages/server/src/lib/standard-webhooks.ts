import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Standard Webhooks symmetric signatures: `v1,<base64 HMAC-SHA256>` over
 * `${id}.${timestamp}.${body}`, keyed with the base64-decoded part of `whsec_…`.
 */
export const SECRET_PREFIX = 'whsec_';
export const SECRET_BYTES = 32;

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes (the spec allows 24 to 64). */
export function generateSecret(bytes = SECRET_BYTES): string {
  if (bytes < 24 || bytes > 64) throw new RangeError('a webhook secret must be 24 to 64 bytes');
  return `${SECRET_PREFIX}${randomBytes(bytes).toString('base64')}`;
}

export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** A secret's HMAC key, for signers that sign with it many times (decoding it once). */
export function secretKeyObject(secret: string): KeyObject {
  return createSecretKey(secretKey(secret));
}

/** One `v1,…` signature of the exact bytes that will be sent, with a secret or its key (secretKeyObject). */
export function sign(secret: string | KeyObject, msgId: string, timestampSeconds: number, body: string | Buffer): string {
  const mac = createHmac('sha256', typeof secret === 'string' ? secretKey(secret) : secret);
  mac.update(`${msgId}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three Standard Webhooks headers; one signature per secret, space-separated (rotation grace). */
export function signatureHeaders(secrets: ReadonlyArray<string | KeyObject>, msgId: string, timestampSeconds: number, body: string | Buffer): SignedHeaders {
  if (secrets.length === 0) throw new Error('at least one secret is needed to sign');
  if (msgId.includes('.')) throw new Error('a webhook id cannot contain "."');
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => sign(secret, msgId, timestampSeconds, body)).join(' '),
  };
}
