import type { Command } from 'commander';
import { CLI_ACTOR } from '../domain/actor.js';
import type { EndpointView } from '../services/webhook-endpoint-service.js';
import { withCore, withDatabaseOptions } from './database-options.js';
import { printJson } from './output.js';

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  ];
}

function printEndpoint(endpoint: EndpointView): void {
  const state = endpoint.disabled
    ? `disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`
    : endpoint.failingSince
      ? `failing since ${endpoint.failingSince}`
      : 'enabled';
  console.log(`${endpoint.id}  ${endpoint.url}  [${endpoint.enabledEvents.join(', ')}]  ${state}${endpoint.description ? `  ${endpoint.description}` : ''}`);
}

/**
 * `ordercast webhooks endpoints list|create|delete`: the REST API's endpoint management
 * for operators at a terminal, through the same service and with the same checks.
 */
export function registerWebhookEndpoints(program: Command): void {
  const endpoints = program
    .command('webhooks')
    .description('webhook endpoints of a project (for operators)')
    .command('endpoints')
    .description('list, create and delete webhook endpoints');

  withDatabaseOptions(
    endpoints.command('list').description("list a project's webhook endpoints").requiredOption('--project <id>', 'project id').option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async (core) => {
      const all = await core.webhookEndpoints.list(flags.project);
      if (flags.json) return printJson(all);
      if (all.length === 0) console.log('no webhook endpoints: add one with `ordercast webhooks endpoints create --project … --url https://…`');
      for (const endpoint of all) printEndpoint(endpoint);
    }),
  );

  withDatabaseOptions(
    endpoints
      .command('create')
      .description('add an endpoint; prints its signing secret, shown once')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--url <url>', 'where events are POSTed (https://…)')
      .option('--events <names>', 'event names it receives, comma-separated or repeated (default: every event)', collect, [])
      .option('--description <text>', 'a note for people')
      .option('--json', 'print JSON: the endpoint and its secret'),
  ).action(async (flags) =>
    withCore(flags, async (core) => {
      const { endpoint, secret } = await core.webhookEndpoints.create(flags.project, {
        url: flags.url,
        description: flags.description,
        enabledEvents: flags.events.length > 0 ? flags.events : undefined,
      });
      await core.auditLog.record({
        projectId: flags.project,
        actor: CLI_ACTOR,
        action: 'webhook_endpoint.created',
        target: { type: 'webhook_endpoint', id: endpoint.id },
        changes: { url: endpoint.url, description: endpoint.description, enabledEvents: endpoint.enabledEvents },
      });
      if (flags.json) return printJson({ ...endpoint, secret });
      printEndpoint(endpoint);
      console.log(`  secret  ${secret}   (shown once: keep it to verify signatures)`);
    }),
  );

  withDatabaseOptions(
    endpoints
      .command('delete')
      .description('delete an endpoint with its delivery log (deliveries not yet sent are dropped)')
      .argument('<endpointId>')
      .requiredOption('--project <id>', 'project id')
      .option('--json', 'print JSON'),
  ).action(async (endpointId, flags) =>
    withCore(flags, async (core) => {
      await core.webhookEndpoints.remove(flags.project, endpointId);
      await core.auditLog.record({
        projectId: flags.project,
        actor: CLI_ACTOR,
        action: 'webhook_endpoint.deleted',
        target: { type: 'webhook_endpoint', id: endpointId },
      });
      if (flags.json) return printJson({ id: endpointId, deleted: true });
      console.log(`deleted ${endpointId}`);
    }),
  );
}
