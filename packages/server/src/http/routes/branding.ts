import type { FastifyInstance } from 'fastify';
import { MAX_PUBLIC_METADATA_KEYS, type Branding } from '../../domain/branding.js';
import type { BrandingService } from '../../services/branding-service.js';
import { actorOf } from '../request-actor.js';
import { errorResponses } from '../schemas.js';

const nullableString = (description: string, maxLength: number) => ({ type: ['string', 'null'], maxLength, description }) as const;

const brandingFields = {
  displayName: nullableString('The name the buyer sees (default: the project name)', 200),
  logoUrl: nullableString('An https URL of the logo', 2048),
  accentColor: nullableString('A hex colour such as #0b6e4f', 16),
  supportUrl: nullableString('An http(s) URL where buyers get help', 2048),
  supportEmail: nullableString('An e-mail address where buyers get help', 254),
  publicMetadataKeys: {
    type: 'array',
    items: { type: 'string', maxLength: 64 },
    maxItems: MAX_PUBLIC_METADATA_KEYS,
    description: 'The order metadata keys a buyer may see; every other key stays hidden (default: none)',
  },
} as const;

const brandingSchema = {
  type: 'object',
  properties: { object: { type: 'string', enum: ['project_branding'] }, ...brandingFields },
  required: ['object', 'displayName', 'logoUrl', 'accentColor', 'supportUrl', 'supportEmail', 'publicMetadataKeys'],
} as const;

function view(branding: Branding) {
  return { object: 'project_branding', ...branding };
}

/** `GET` and `PATCH /api/v2/project/branding`: how the buyer's page looks (see docs/buyer-view.md). */
export async function brandingRoutes(app: FastifyInstance, opts: { branding: BrandingService }): Promise<void> {
  app.get(
    '/api/v2/project/branding',
    {
      config: { allow: ['secret'], permission: 'orders:read' },
      schema: {
        operationId: 'getProjectBranding',
        summary: "The buyer page's branding",
        tags: ['project'],
        response: { 200: brandingSchema, ...errorResponses },
      },
    },
    async (request) => view(await opts.branding.get(request.principal.projectId)),
  );

  app.patch<{ Body: Record<string, unknown> }>(
    '/api/v2/project/branding',
    {
      // What a buyer sees of the project's orders: the same permission as making links to them (an operator's dashboard has it).
      config: { allow: ['secret'], permission: 'orders:write' },
      schema: {
        operationId: 'updateProjectBranding',
        summary: "Change the buyer page's branding",
        description:
          'Sets the fields given (null clears one). URLs must be http(s) (the logo https), the colour a hex colour, the e-mail an address: anything else is 400 `validation_failed`. Recorded in the audit log.',
        tags: ['project'],
        body: { type: 'object', additionalProperties: false, properties: brandingFields },
        response: { 200: brandingSchema, ...errorResponses },
      },
    },
    async (request) => view(await opts.branding.update(request.principal.projectId, request.body, actorOf(request))),
  );
}
