import { PERMISSIONS } from '../../domain/permissions.js';

/** The admin API's shapes, beside its routes (admin-projects.ts, admin-keys.ts). */

export const adminTags = ['admin'];

export const adminProjectSchema = {
  $id: 'AdminProject',
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', enum: ['project'] },
    name: { type: 'string' },
    lifecycle: { type: 'string', description: "The lifecycle's name (`GET …/lifecycle` for all of it)" },
    status: { type: 'string', enum: ['active', 'disabled'] },
    createdAt: { type: 'string', format: 'date-time' },
    disabledAt: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['id', 'object', 'name', 'lifecycle', 'status', 'createdAt', 'disabledAt'],
} as const;

const apiKeyProperties = {
  id: { type: 'string' },
  object: { type: 'string', enum: ['api_key'] },
  projectId: { type: 'string' },
  kind: { type: 'string', enum: ['secret', 'publishable', 'restricted'] },
  prefix: { type: 'string', description: 'The first 11 characters of the key' },
  permissions: {
    type: ['array', 'null'],
    items: { type: 'string', enum: [...PERMISSIONS] },
    description: "A restricted key's permissions; null for the other kinds",
  },
  createdAt: { type: 'string', format: 'date-time' },
  expiresAt: { type: ['string', 'null'], format: 'date-time' },
  revokedAt: { type: ['string', 'null'], format: 'date-time' },
  status: { type: 'string', enum: ['active', 'expiring', 'expired', 'revoked'] },
} as const;

const apiKeyRequired = ['id', 'object', 'projectId', 'kind', 'prefix', 'permissions', 'createdAt', 'expiresAt', 'revokedAt', 'status'];

export const apiKeySchema = { $id: 'ApiKey', type: 'object', properties: apiKeyProperties, required: apiKeyRequired } as const;

/** A key as issued: with the key itself, shown this once. */
export const issuedApiKeySchema = {
  type: 'object',
  properties: { ...apiKeyProperties, key: { type: 'string', description: 'The key itself: shown only in this answer' } },
  required: [...apiKeyRequired, 'key'],
} as const;

const adminKeyProperties = {
  id: { type: 'string' },
  object: { type: 'string', enum: ['admin_key'] },
  prefix: { type: 'string' },
  createdAt: { type: 'string', format: 'date-time' },
  expiresAt: { type: ['string', 'null'], format: 'date-time' },
  status: { type: 'string', enum: ['active', 'expiring', 'expired'] },
} as const;

export const adminKeySchema = {
  $id: 'AdminKey',
  type: 'object',
  properties: adminKeyProperties,
  required: ['id', 'object', 'prefix', 'createdAt', 'expiresAt', 'status'],
} as const;

export const issuedAdminKeySchema = {
  type: 'object',
  properties: { ...adminKeyProperties, key: { type: 'string', description: 'The admin key itself: shown only in this answer' } },
  required: ['id', 'object', 'prefix', 'createdAt', 'expiresAt', 'status', 'key'],
} as const;

export const rollBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    expiresInSeconds: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'How long the old key keeps working beside the new one (0: it stops at once; on running servers within 5 s)',
    },
  },
} as const;
