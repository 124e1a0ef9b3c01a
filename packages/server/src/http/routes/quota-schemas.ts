import { QUOTA_MAXIMUMS, QUOTA_NAMES, QUOTA_UNITS } from '../../domain/quotas.js';

/** One value per quota, as `GET /api/v2/project` and the admin quota routes show them. */
export const quotasSchema = {
  type: 'object',
  properties: Object.fromEntries(
    QUOTA_NAMES.map((name) => [name, { type: 'integer', minimum: 1, maximum: QUOTA_MAXIMUMS[name], description: QUOTA_UNITS[name] }]),
  ),
  required: [...QUOTA_NAMES],
} as const;

/** The quotas a project overrides (any subset). */
export const quotaOverridesSchema = {
  type: 'object',
  properties: Object.fromEntries(QUOTA_NAMES.map((name) => [name, { type: 'integer', minimum: 1, maximum: QUOTA_MAXIMUMS[name] }])),
} as const;

/** A change: a quota's new value, or null to return it to the server's default; quotas not named keep theirs. */
export const quotaChangeSchema = {
  type: 'object',
  description: `Any of ${QUOTA_NAMES.join(', ')}: a whole number from 1 to the quota's maximum, or null to follow the server's default again. Other names are refused with 400 \`invalid_quota\` listing the valid ones.`,
  properties: Object.fromEntries(QUOTA_NAMES.map((name) => [name, { description: `${QUOTA_UNITS[name]}: from 1 to ${QUOTA_MAXIMUMS[name]}, or null` }])),
} as const;
