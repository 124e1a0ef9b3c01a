/** What a restricted key, or a dashboard session's role, may do (Stripe's restricted keys are the model). */
export const PERMISSIONS = ['orders:read', 'orders:write', 'webhooks:read', 'webhooks:write', 'events:read', 'tokens:create'] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}
