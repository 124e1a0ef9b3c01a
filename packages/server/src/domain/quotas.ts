import { OrdercastError } from './errors.js';
import { MAX_METADATA_BYTES } from './new-order.js';

/**
 * What one project may use of a shared server. The names are the public ones: the keys of
 * the quota API, the `quota` an error names, the label of the metrics.
 */
export const QUOTA_NAMES = ['writes_per_second', 'open_connections', 'webhook_endpoints', 'metadata_bytes'] as const;

export type QuotaName = (typeof QUOTA_NAMES)[number];

/** A limit for every quota: the effective quotas of a project, or the server's defaults. */
export type Quotas = Record<QuotaName, number>;

/** A project's own values; a quota it does not override follows the server's default. */
export type QuotaOverrides = Partial<Quotas>;

/** A change to a project's overrides: a number sets one, null clears it. */
export type QuotaChange = Partial<Record<QuotaName, number | null>>;

/**
 * The largest value each quota takes. Past these a value is a typing mistake, not a plan:
 * a write rate no node sustains, more connections than a node holds, more endpoints than
 * the dispatcher's lanes are meant for, or metadata over the server's own limit.
 */
export const QUOTA_MAXIMUMS: Quotas = {
  writes_per_second: 1_000_000,
  open_connections: 1_000_000,
  webhook_endpoints: 1_000,
  metadata_bytes: MAX_METADATA_BYTES,
};

/** What each quota counts, for messages and documentation. */
export const QUOTA_UNITS: Record<QuotaName, string> = {
  writes_per_second: 'writes (creates and transitions, a batch counting its items) per second',
  open_connections: 'open Socket.IO and Centrifuge connections and SSE streams',
  webhook_endpoints: 'webhook endpoints',
  metadata_bytes: "bytes of an order's metadata JSON",
};

export function isQuotaName(name: string): name is QuotaName {
  return (QUOTA_NAMES as readonly string[]).includes(name);
}

/** Whether `value` is a limit `quota` may take: a whole number from 1 to its maximum. */
export function isValidQuota(quota: QuotaName, value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= QUOTA_MAXIMUMS[quota];
}

function invalidQuota(quota: QuotaName, value: unknown): OrdercastError {
  return new OrdercastError(
    'invalid_quota',
    `${quota} must be a whole number from 1 to ${QUOTA_MAXIMUMS[quota]} (${QUOTA_UNITS[quota]}), or null to follow the server's default`,
    { field: quota, value: value === undefined ? null : value, min: 1, max: QUOTA_MAXIMUMS[quota] },
  );
}

/**
 * Checks a change of a project's quotas: every key a quota name, every value a valid
 * limit or null. Refuses the whole change at its first bad key, so nothing is half applied.
 */
export function validateQuotaChange(input: unknown): QuotaChange {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new OrdercastError('invalid_quota', `Send an object of quotas, such as {"writes_per_second": 100}: the quotas are ${QUOTA_NAMES.join(', ')}`, {
      validQuotas: QUOTA_NAMES,
    });
  }
  const change: QuotaChange = {};
  for (const [name, value] of Object.entries(input)) {
    if (!isQuotaName(name)) {
      throw new OrdercastError('invalid_quota', `"${name}" is not a quota: the quotas are ${QUOTA_NAMES.join(', ')}`, {
        field: name,
        validQuotas: QUOTA_NAMES,
      });
    }
    if (value !== null && !isValidQuota(name, value)) throw invalidQuota(name, value);
    change[name] = value as number | null;
  }
  return change;
}

/** The effective quotas: the project's overrides over the server's defaults. */
export function effectiveQuotas(defaults: Quotas, overrides: QuotaOverrides): Quotas {
  return { ...defaults, ...overrides };
}

/**
 * The refusal when a project is past a quota: `429 quota_exceeded` with `Retry-After`.
 * `retryAfterSeconds` is the earliest a retry can succeed (for limits that free only when
 * the project closes or deletes something, a short time to look again).
 */
export function quotaExceeded(quota: QuotaName, limit: number, retryAfterSeconds: number, facts: Record<string, number> = {}): OrdercastError {
  return new OrdercastError(
    'quota_exceeded',
    `This project is over its ${quota} quota (${limit} ${QUOTA_UNITS[quota]}): retry after ${retryAfterSeconds} s, or ask the operator to raise it`,
    { quota, limit, ...facts, retryAfterSeconds },
  );
}
