import { OrdercastError } from '../domain/errors.js';
import type { Permission } from '../domain/permissions.js';
import type { Principal } from './auth-service.js';

/** Anything that may carry permissions: a principal, or a connection's copy of one. */
export type PermissionHolder = Principal | { readonly permissions: readonly Permission[] | null };

/**
 * Whether a credential may do what needs `permission`. Only a credential that carries a
 * list is limited by it (a restricted key; a dashboard session's role): an unrestricted
 * secret key (`permissions: null`) may do everything, and a user token or a publishable
 * key is limited by its kind (the routes' `allow`), not by permissions.
 */
export function hasPermission(principal: PermissionHolder, permission: Permission): boolean {
  const permissions = 'permissions' in principal ? principal.permissions : null;
  return permissions === null || permissions.includes(permission);
}

/** Throws `permission_denied`, naming the permission, when the credential lacks it (REST, Socket.IO, SSE, Centrifuge alike). */
export function requirePermission(principal: PermissionHolder, permission: Permission): void {
  if (hasPermission(principal, permission)) return;
  const holder = 'kind' in principal && principal.kind === 'dashboard' ? `${principal.role} dashboard session` : 'restricted key';
  throw new OrdercastError('permission_denied', `This ${holder} lacks the permission "${permission}"`, { permission });
}
