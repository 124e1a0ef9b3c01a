import { createHmac, timingSafeEqual } from 'node:crypto';
import { OrdercastClientError } from './errors.js';
import type { OrderWebhookEvent } from './types.js';

/** Which check failed; stable, so a receiver can log or count it. */
export type WebhookFailure =
  | 'invalid_secret'
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'invalid_signature'
  | 'invalid_payload';

export class WebhookVerificationError extends OrdercastClientError {
  declare readonly code: WebhookFailure;

  constructor(code: WebhookFailure, message: string) {
    super(code, message);
  }
}

/** A Fetch `Headers`, a plain object, or Node's `IncomingHttpHeaders` (values may be arrays). */
export type WebhookHeaders = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, either way. Default 300 s, as every Standard Webhooks library. */
  toleranceSeconds?: number;
  /** The clock to check the timestamp against (for replaying stored deliveries). Default: now. */
  now?: Date | number;
}

const SECRET_PREFIX = 'whsec_';

/**
 * Verifies a Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) over the raw body exactly as received, then parses it.
 * Pass the body before any JSON middleware touched it: re-serialised JSON does not verify.
 */
export function verifyWebhook<T = OrderWebhookEvent>(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): T {
  const key = decodeSecret(secret);
  const id = readHeader(headers, 'webhook-id');
  const timestamp = readHeader(headers, 'webhook-timestamp');
  const signatures = readHeader(headers, 'webhook-signature');

  if (!/^\d{1,15}$/.test(timestamp))
    throw new WebhookVerificationError('invalid_timestamp', `webhook-timestamp is not Unix seconds: ${JSON.stringify(timestamp.slice(0, 40))}`);
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor(Number(options.now ?? Date.now()) / 1000);
  const sentAt = Number(timestamp);
  if (nowSeconds - sentAt > tolerance)
    throw new WebhookVerificationError('timestamp_too_old', `webhook-timestamp is ${nowSeconds - sentAt} s old (tolerance ${tolerance} s)`);
  if (sentAt - nowSeconds > tolerance)
    throw new WebhookVerificationError('timestamp_too_new', `webhook-timestamp is ${sentAt - nowSeconds} s in the future (tolerance ${tolerance} s)`);

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  if (!signatures.split(' ').some((candidate) => matches(candidate, expected))) {
    throw new WebhookVerificationError('invalid_signature', 'No v1 signature in webhook-signature matches this body and secret');
  }

  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'The signature is valid but the body is not JSON');
  }
}

function matches(candidate: string, expected: Buffer): boolean {
  const comma = candidate.indexOf(',');
  if (comma < 0 || candidate.slice(0, comma) !== 'v1') return false; // other schemes (v1a) are not ours to check
  const signature = Buffer.from(candidate.slice(comma + 1), 'base64');
  // timingSafeEqual needs equal lengths; a length mismatch reveals nothing about the secret.
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

function decodeSecret(secret: string | Uint8Array): Uint8Array {
  if (typeof secret !== 'string') return secret;
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!encoded || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new WebhookVerificationError('invalid_secret', 'The webhook secret should be whsec_ followed by base64 (copy it whole from the endpoint settings)');
  }
  return Buffer.from(encoded, 'base64');
}

function readHeader(headers: WebhookHeaders, name: string): string {
  let value: string | string[] | null | undefined;
  if (typeof headers.get === 'function') {
    value = (headers as { get(name: string): string | null }).get(name);
  } else {
    const record = headers as Record<string, string | string[] | undefined>;
    value = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  }
  if (Array.isArray(value)) value = value.join(' ');
  if (!value) throw new WebhookVerificationError('missing_header', `Missing ${name} header`);
  return value;
}
