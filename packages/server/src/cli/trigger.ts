import type { Command } from 'commander';
import { pathTo } from '../domain/event-catalogue.js';
import { OrdercastError } from '../domain/errors.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import { endpointWantsEvent } from '../domain/webhook.js';
import { withCore, withDatabaseOptions } from './database-options.js';
import { printJson } from './output.js';

/**
 * The statuses an order walks through so that its last step emits `eventType`:
 * the creation alone for the created event, else the shortest path that enters,
 * by a transition, a status whose event has that name.
 */
export function walkTo(lifecycle: Lifecycle, eventType: string): string[] | undefined {
  if (eventType === lifecycle.createdEventName) return [lifecycle.initial[0]!];
  let best: string[] | undefined;
  for (const status of lifecycle.statuses) {
    if (lifecycle.eventNames[status] !== eventType) continue;
    for (const [from, targets] of Object.entries(lifecycle.transitions)) {
      if (!targets.includes(status)) continue;
      const before = pathTo(lifecycle, from);
      if (before && (!best || before.length + 1 < best.length)) best = [...before, status];
    }
  }
  return best;
}

export function registerTrigger(program: Command): void {
  withDatabaseOptions(
    program
      .command('trigger')
      .description(
        'create a test order and walk it through its lifecycle to the given event, as `stripe trigger` does; its webhooks go to every endpoint that subscribes',
      )
      .argument('<eventType>', 'an event of the project lifecycle, such as ORDER_COMPLETED')
      .requiredOption('--project <id>', 'project id')
      .option(
        '--endpoint <id>',
        'a webhook endpoint to check and report on: it must exist, be enabled and want the event; the deliveries queued for it are printed',
      )
      .option('--json', 'print JSON'),
  ).action(async (eventType: string, flags) =>
    withCore(flags, async (core) => {
      const project = await core.projects.get(flags.project);
      const walk = walkTo(project.lifecycle, eventType);
      if (!walk) {
        const names = [...new Set([project.lifecycle.createdEventName, ...Object.values(project.lifecycle.eventNames)])].filter((name) =>
          walkTo(project.lifecycle, name),
        );
        throw new OrdercastError(
          'unknown_event_type',
          `"${eventType}" is not an event an order of the ${project.lifecycle.name} lifecycle can emit; its events are ${names.join(', ')}`,
          {
            eventTypes: names,
          },
        );
      }
      if (flags.endpoint !== undefined) {
        const endpoint = await core.webhookEndpoints.getRecord(flags.project, flags.endpoint);
        if (endpoint.disabled)
          throw new OrdercastError('webhook_endpoint_disabled', `Webhook endpoint ${endpoint.id} is disabled: enable it first`, { endpointId: endpoint.id });
        if (!endpointWantsEvent(endpoint.enabledEvents, eventType)) {
          throw new OrdercastError(
            'unknown_event_name',
            `Webhook endpoint ${endpoint.id} does not subscribe to ${eventType} (its events: ${endpoint.enabledEvents.join(', ')})`,
            {
              endpointId: endpoint.id,
            },
          );
        }
      }
      const { body: created } = await core.orders.create(flags.project, {
        status: walk[0],
        externalId: `trigger-${Date.now().toString(36)}`,
        metadata: { ordercast_trigger: eventType },
      });
      let order = created;
      for (const status of walk.slice(1)) order = (await core.orders.transition(flags.project, order.id, { status, reason: 'ordercast trigger' })).body;
      const deliveries =
        flags.endpoint === undefined
          ? []
          : (await core.webhookDeliveries.list(flags.project, { endpointId: flags.endpoint, orderId: order.id, limit: 100 })).data.reverse();
      if (flags.json) return printJson({ order, deliveries });
      console.log(`Created test order ${order.id} and walked it ${walk.join(' -> ')}`);
      for (const h of order.statusHistory) console.log(`  v${h.version}  ${h.status}`);
      for (const d of deliveries) console.log(`  queued for ${d.endpointId}: ${d.eventName} [${d.id}]`);
      console.log('A running server sends its webhooks (another process finds them within its ORDERCAST_WEBHOOK_POLL_INTERVAL, 1 s by default).');
    }),
  );
}
