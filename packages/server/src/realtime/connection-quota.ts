import type { QuotaEnforcer } from '../services/quota-enforcer.js';

/**
 * A project's open_connections quota as the gateways see it: a slot taken when a connection
 * is accepted (or refused with `quota_exceeded`), given back when it ends. Socket.IO,
 * Centrifuge (WebSocket and HTTP transports) and SSE share one count per project.
 */
export type ConnectionQuota = Pick<QuotaEnforcer, 'openConnection'>;
