import { QUOTA_MAXIMUMS, QUOTA_NAMES, type QuotaName, type Quotas } from './domain/quotas.js';

/**
 * The server-wide quotas every project has unless an operator overrides them
 * (ORDERCAST_QUOTA_*). High enough that no normal use meets them: they stop one
 * tenant from taking what the others need, they are not a pricing plan.
 */
export const DEFAULT_QUOTAS: Quotas = {
  writes_per_second: 10_000,
  open_connections: 10_000,
  webhook_endpoints: 50,
  metadata_bytes: QUOTA_MAXIMUMS.metadata_bytes,
};

const ENV_NAMES: Record<QuotaName, string> = {
  writes_per_second: 'ORDERCAST_QUOTA_WRITES_PER_SECOND',
  open_connections: 'ORDERCAST_QUOTA_OPEN_CONNECTIONS',
  webhook_endpoints: 'ORDERCAST_QUOTA_WEBHOOK_ENDPOINTS',
  metadata_bytes: 'ORDERCAST_QUOTA_METADATA_BYTES',
};

export class QuotaConfigError extends Error {}

/** ORDERCAST_QUOTA_*: each a whole number from 1 to the quota's maximum; unset keeps the default. */
export function loadQuotaDefaults(env: NodeJS.ProcessEnv): Quotas {
  const quotas = { ...DEFAULT_QUOTAS };
  for (const name of QUOTA_NAMES) {
    const raw = env[ENV_NAMES[name]];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1 || value > QUOTA_MAXIMUMS[name]) {
      throw new QuotaConfigError(`${ENV_NAMES[name]} must be a whole number from 1 to ${QUOTA_MAXIMUMS[name]} (got "${raw}")`);
    }
    quotas[name] = value;
  }
  return quotas;
}
