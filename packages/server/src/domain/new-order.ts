import { OrdercastError } from './errors.js';

/** What a caller may send to create an order. */
export interface NewOrderInput {
  externalId?: string | null;
  userExternalId?: string | null;
  amount?: string | number | null;
  currency?: string | null;
  metadata?: Record<string, unknown> | null;
  status?: string;
}

export interface ValidNewOrder {
  externalId: string | null;
  userExternalId: string | null;
  amount: string | null;
  currency: string | null;
  metadata: Record<string, unknown>;
  status: string | undefined;
}

const AMOUNT_PATTERN = /^(0|[1-9]\d{0,29})(\.\d{1,18})?$/;
const CURRENCY_PATTERN = /^[A-Za-z0-9]{2,16}$/;
export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_METADATA_KEYS = 50;
/** Nesting of objects and arrays inside metadata: deep enough for any real use, shallow enough for every recursive walk. */
export const MAX_METADATA_DEPTH = 32;

/** Whether `value` nests deeper than `limit`, found without recursion (the value may come from anyone). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth + 1 > limit) return true;
    for (const child of Object.values(next.value as object)) stack.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

function fail(field: string, message: string): never {
  throw new OrdercastError('validation_failed', message, { field });
}

function optionalId(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length < 1 || value.length > 255 || /\s/.test(value)) {
    fail(field, `${field} must be 1 to 255 characters without spaces`);
  }
  return value;
}

/** Checks a new order's fields; amounts are kept as exact decimal strings. */
export function validateNewOrder(input: NewOrderInput): ValidNewOrder {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('body', 'The order must be a JSON object');
  let amount: string | null = null;
  if (input.amount !== undefined && input.amount !== null) {
    const text = typeof input.amount === 'number' && Number.isFinite(input.amount) ? String(input.amount) : input.amount;
    if (typeof text !== 'string' || !AMOUNT_PATTERN.test(text)) {
      fail('amount', 'amount must be a non-negative decimal such as "12.50" (up to 18 decimal places)');
    }
    amount = text;
  }
  let currency: string | null = null;
  if (input.currency !== undefined && input.currency !== null) {
    if (typeof input.currency !== 'string' || !CURRENCY_PATTERN.test(input.currency)) {
      fail('currency', 'currency must be a code of 2 to 16 letters or digits, such as "EUR" or "USDC"');
    }
    currency = input.currency.toUpperCase();
  }
  const metadata = input.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) fail('metadata', 'metadata must be a JSON object');
  if (Object.keys(metadata).length > MAX_METADATA_KEYS) fail('metadata', `metadata may have at most ${MAX_METADATA_KEYS} keys`);
  // Before anything walks it recursively (serialising, the idempotency hash).
  if (nestsDeeperThan(metadata, MAX_METADATA_DEPTH)) fail('metadata', `metadata may nest at most ${MAX_METADATA_DEPTH} levels of objects and arrays`);
  if (new TextEncoder().encode(JSON.stringify(metadata)).length > MAX_METADATA_BYTES)
    fail('metadata', `metadata may be at most ${MAX_METADATA_BYTES} bytes of JSON`);
  if (input.status !== undefined && typeof input.status !== 'string') fail('status', 'status must be a string');
  return {
    externalId: optionalId(input.externalId, 'externalId'),
    userExternalId: optionalId(input.userExternalId, 'userExternalId'),
    amount,
    currency,
    metadata,
    status: input.status,
  };
}
