import type { Permission } from './permissions.js';

/** What a dashboard sign-in link grants: watching (viewer), or also moving orders and changing endpoints (operator). */
export const DASHBOARD_ROLES = ['viewer', 'operator'] as const;

export type DashboardRole = (typeof DASHBOARD_ROLES)[number];

export function isDashboardRole(value: unknown): value is DashboardRole {
  return value === 'viewer' || value === 'operator';
}

const VIEWER: readonly Permission[] = ['orders:read', 'webhooks:read', 'events:read'];
const OPERATOR: readonly Permission[] = [...VIEWER, 'orders:write', 'webhooks:write'];

export function dashboardPermissions(role: DashboardRole): readonly Permission[] {
  return role === 'operator' ? OPERATOR : VIEWER;
}
