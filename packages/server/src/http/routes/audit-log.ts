import type { FastifyInstance } from 'fastify';
import { MAX_PAGE_SIZE } from '../../domain/order.js';
import { AUDIT_ACTIONS, type AuditLog, type AuditQuery } from '../../services/audit-log.js';
import { errorResponses, pageSchema } from '../schemas.js';

export const auditEntrySchema = {
  $id: 'AuditEntry',
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The entry id (`aud_…`), or for order changes the event id (`evt_…`)' },
    object: { type: 'string', enum: ['audit_entry'] },
    action: { type: 'string', enum: [...AUDIT_ACTIONS] },
    actor: {
      type: 'object',
      description: 'The credential: a key (`secret_key`, `publishable_key`, `admin_key`, with its id), a dashboard session (with its id and role), or the CLI',
      properties: { kind: { type: 'string' }, id: { type: ['string', 'null'] }, role: { type: 'string', enum: ['viewer', 'operator'] } },
      required: ['kind', 'id'],
    },
    address: { type: ['string', 'null'], description: 'The client address the server saw (null for the CLI)' },
    target: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' } }, required: ['type', 'id'] },
    changes: { type: 'object', additionalProperties: true, description: 'What changed; secrets never appear' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'object', 'action', 'actor', 'address', 'target', 'changes', 'createdAt'],
} as const;

export async function auditLogRoutes(app: FastifyInstance, opts: { audit: AuditLog }): Promise<void> {
  app.addSchema(auditEntrySchema);
  app.get<{ Querystring: AuditQuery }>(
    '/api/v2/audit-log',
    {
      config: { allow: ['secret'], permission: 'events:read' },
      schema: {
        summary: 'Who changed what',
        operationId: 'listAuditLog',
        description:
          'Every change made with a credential in this project, newest first: orders created and moved, endpoints created, changed and deleted, keys and secrets rotated, dashboard links and sessions. Filter by `action` (repeat for several), `actor` (a key or session id, or `cli`), `target` (an order, endpoint or session id) and `since`/`until` (ISO times); page with `nextCursor`.',
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            action: { type: 'array', items: { type: 'string', maxLength: 64 }, minItems: 1, maxItems: AUDIT_ACTIONS.length },
            actor: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_]+$' },
            target: { type: 'string', minLength: 1, maxLength: 64 },
            since: { type: 'string', maxLength: 64 },
            until: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 },
            cursor: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: { 200: pageSchema('AuditEntry'), ...errorResponses },
      },
    },
    async (request) => ({ object: 'list', ...(await opts.audit.list(request.principal.projectId, request.query)) }),
  );
}
