import { CLI_ACTOR } from '../domain/actor.js';
import type { Command } from 'commander';
import { OrdercastError } from '../domain/errors.js';
import type { ApiKeyView, IssuedApiKey } from '../services/project-key-service.js';
import { withCore, withDatabaseOptions } from './database-options.js';
import { graceSeconds } from './grace-option.js';
import { printJson } from './output.js';

/**
 * `ordercast projects rename|disable|enable|create-key|list-keys|roll-key|revoke-key`: thin
 * callers of the services the admin API calls, so a change means the same made either way.
 */
export function registerProjectChanges(projects: Command): void {
  withDatabaseOptions(
    projects
      .command('rename')
      .description('rename a project')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--name <name>', 'the new name')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ administration }) => {
      const project = await administration.renameProject(flags.project, flags.name, CLI_ACTOR);
      if (flags.json) return printJson({ id: project.id, name: project.name });
      console.log(`project ${project.id} is now "${project.name}"`);
    }),
  );

  for (const change of ['disable', 'enable'] as const) {
    withDatabaseOptions(
      projects
        .command(change)
        .description(
          change === 'disable'
            ? 'disable a project: its keys, tokens, sockets and streams stop within 5 s on running servers; its webhooks wait'
            : 'enable a disabled project: its keys and tokens work again, its webhooks resume',
        )
        .requiredOption('--project <id>', 'project id')
        .option('--json', 'print JSON'),
    ).action(async (flags) =>
      withCore(flags, async ({ administration }) => {
        const project =
          change === 'disable' ? await administration.disableProject(flags.project, CLI_ACTOR) : await administration.enableProject(flags.project, CLI_ACTOR);
        if (flags.json) return printJson({ id: project.id, name: project.name, disabledAt: project.disabledAt });
        console.log(project.disabledAt ? `project ${project.id} disabled since ${project.disabledAt}` : `project ${project.id} enabled`);
      }),
    );
  }

  withDatabaseOptions(
    projects
      .command('create-key')
      .description('issue a key for a project: secret, publishable, or restricted to some permissions (shown once)')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--kind <kind>', 'secret, publishable or restricted')
      .option('--permissions <list>', 'for a restricted key: comma-separated, e.g. orders:read,events:read')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ administration }) => {
      if (flags.kind !== 'secret' && flags.kind !== 'publishable' && flags.kind !== 'restricted') {
        throw new OrdercastError('validation_failed', '--kind must be "secret", "publishable" or "restricted"');
      }
      const permissions =
        typeof flags.permissions === 'string'
          ? flags.permissions
              .split(',')
              .map((p: string) => p.trim())
              .filter(Boolean)
          : undefined;
      const issued = await administration.createKey(flags.project, { kind: flags.kind, permissions }, CLI_ACTOR);
      if (flags.json) return printJson(issued);
      printIssued(issued);
    }),
  );

  withDatabaseOptions(
    projects
      .command('list-keys')
      .description("list a project's keys (never the keys themselves)")
      .requiredOption('--project <id>', 'project id')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ projectKeys }) => {
      const keys = await projectKeys.list(flags.project);
      if (flags.json) return printJson(keys);
      for (const key of keys) console.log(describe(key));
    }),
  );

  withDatabaseOptions(
    projects
      .command('roll-key')
      .description('replace one key by a new one of the same kind and permissions; the old one stops after the grace period')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--key <id>', 'the key id (`ordercast projects list-keys`)')
      .option('--grace <seconds>', 'how long the old key keeps working', '0')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ administration }) => {
      const rolled = await administration.rollKey(flags.project, flags.key, graceSeconds(flags.grace), CLI_ACTOR);
      if (flags.json) return printJson(rolled);
      printIssued(rolled.key);
      console.log(
        `the old key ${rolled.previous.id} stops working at ${rolled.previous.expiresAt} (within 5 s of that on running servers, open sockets included)`,
      );
    }),
  );

  withDatabaseOptions(
    projects
      .command('revoke-key')
      .description('stop one key at once (within 5 s on running servers, open sockets included)')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--key <id>', 'the key id')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ administration }) => {
      const revoked = await administration.revokeKey(flags.project, flags.key, CLI_ACTOR);
      if (flags.json) return printJson(revoked);
      console.log(`key ${revoked.id} revoked at ${revoked.revokedAt}`);
    }),
  );
}

function describe(key: ApiKeyView): string {
  const permissions = key.permissions ? `  [${key.permissions.join(', ')}]` : '';
  return `${key.id}  ${key.kind.padEnd(11)}  ${key.prefix}…  ${key.status.padEnd(8)}${key.expiresAt ? `  until ${key.expiresAt}` : ''}${permissions}`;
}

function printIssued(issued: IssuedApiKey): void {
  console.log(`new ${issued.kind} key ${issued.id}: ${issued.key}`);
  if (issued.permissions) console.log(`  permissions: ${issued.permissions.join(', ')}`);
  console.log('Shown once: only its hash is stored.');
}
