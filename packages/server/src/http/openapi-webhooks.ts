import { eventCatalogue, type EventType } from '../domain/event-catalogue.js';
import { lifecyclePresets } from '../domain/lifecycle-presets.js';

/**
 * The OpenAPI 3.1 `webhooks` section: the same event types as `GET /event-types`,
 * for the preset lifecycles (a project with a lifecycle of its own gets its event
 * names from `GET /event-types`). Schemas are JSON Schema 2020-12, which OpenAPI 3.1 uses.
 */
export function openApiWebhooks(): Record<string, any> {
  const types = new Map<string, { type: EventType; lifecycles: string[] }>();
  for (const [preset, lifecycle] of Object.entries(lifecyclePresets)) {
    for (const type of eventCatalogue(lifecycle)) {
      const seen = types.get(type.name);
      if (seen) seen.lifecycles.push(preset);
      else types.set(type.name, { type, lifecycles: [preset] });
    }
  }
  const operational = new Set(
    eventCatalogue(lifecyclePresets.onramp!)
      .slice(-5)
      .map((t) => t.name),
  );
  const webhooks: Record<string, any> = {};
  for (const [name, { type, lifecycles }] of types) {
    const { $schema: _dialect, ...schema } = type.schema;
    webhooks[name] = {
      post: {
        summary: name,
        description: operational.has(name) ? type.description : `${type.description} (lifecycle preset: ${lifecycles.join(', ')})`,
        operationId: `webhook_${name.replace(/[^A-Za-z0-9_]/g, '_')}`,
        tags: ['webhooks'],
        parameters: [
          { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' }, description: 'The delivery id (the same on every retry)' },
          { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string' }, description: 'Unix seconds of this attempt' },
          {
            name: 'webhook-signature',
            in: 'header',
            required: true,
            schema: { type: 'string' },
            description: 'Space-separated `v1,<base64 HMAC-SHA256>` signatures (Standard Webhooks)',
          },
        ],
        requestBody: { required: true, content: { 'application/json': { schema, example: type.example } } },
        responses: { '2XX': { description: 'Received; any other answer is retried (410 Gone disables the endpoint)' } },
      },
    };
  }
  return webhooks;
}
