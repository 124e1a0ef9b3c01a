import type { Command } from 'commander';
import { OrdercastError } from '../domain/errors.js';
import { withCore, withDatabaseOptions } from './database-options.js';
import { printJson } from './output.js';
import { CLI_ACTOR } from '../domain/actor.js';
import { registerProjectQuotas } from './project-quotas.js';
import { registerProjectChanges } from './project-changes.js';

export function registerProjects(program: Command): void {
  const projects = program.command('projects').description('create, list, rename, disable and enable projects (tenants), and manage their keys');

  withDatabaseOptions(
    projects
      .command('create')
      .description('create a project and print its keys (shown once)')
      .requiredOption('--name <name>', 'a name for people')
      .requiredOption('--lifecycle <lifecycle>', 'onramp, store, or the path of a lifecycle JSON file')
      .option('--json', 'print one JSON object: id, secretKey, publishableKey, tokenSecret, lifecycle'),
  ).action(async (flags) =>
    withCore(flags, async ({ administration }) => {
      const created = await administration.createProject({ name: flags.name, lifecycle: flags.lifecycle }, CLI_ACTOR, { lifecycleFiles: true });
      if (flags.json) {
        printJson({
          id: created.project.id,
          name: created.project.name,
          secretKey: created.secretKey,
          publishableKey: created.publishableKey,
          tokenSecret: created.tokenSecret,
          lifecycle: created.project.lifecycle,
        });
        return;
      }
      console.log(`project ${created.project.id} "${created.project.name}" (lifecycle ${created.project.lifecycle.name})`);
      console.log(`  secret key       ${created.secretKey}`);
      console.log(`  publishable key  ${created.publishableKey}`);
      console.log(`  token secret     ${created.tokenSecret}`);
      console.log(
        'These are shown once: the keys are stored only as hashes, and the token secret encrypted. Keep the secret key and token secret on your server.',
      );
    }),
  );

  withDatabaseOptions(projects.command('list').description('list projects').option('--json', 'print JSON')).action(async (flags) =>
    withCore(flags, async ({ projects: service }) => {
      const all = await service.list();
      if (flags.json) {
        printJson(all.map((p) => ({ id: p.id, name: p.name, lifecycle: p.lifecycle.name, createdAt: p.createdAt, disabledAt: p.disabledAt })));
        return;
      }
      if (all.length === 0) console.log('no projects yet: create one with `ordercast projects create --name … --lifecycle onramp`');
      for (const p of all)
        console.log(`${p.id}  ${p.lifecycle.name.padEnd(8)}  ${p.createdAt}  ${p.name}${p.disabledAt ? `  (disabled ${p.disabledAt})` : ''}`);
    }),
  );

  withDatabaseOptions(
    projects
      .command('rotate-key')
      .description('issue a new secret key, publishable key or token secret; the old ones stop working after the grace period')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--kind <kind>', 'secret, publishable, or token (the secret that signs user tokens)')
      .option('--grace <seconds>', 'how long the old keys (or tokens signed with the old token secret) keep working', '0')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ projects: service, auditLog }) => {
      if (flags.kind !== 'secret' && flags.kind !== 'publishable' && flags.kind !== 'token') {
        throw new OrdercastError('validation_failed', '--kind must be "secret", "publishable" or "token"');
      }
      const grace = Number(flags.grace);
      if (!Number.isInteger(grace) || grace < 0) throw new OrdercastError('validation_failed', '--grace must be a whole number of seconds');
      if (flags.kind === 'token') {
        const { tokenSecret, previousExpiresAt } = await service.rotateTokenSecret(flags.project, grace);
        await auditLog.record({
          projectId: flags.project,
          actor: CLI_ACTOR,
          action: 'token_secret.rotated',
          target: { type: 'project', id: flags.project },
          changes: { previousExpiresAt },
        });
        if (flags.json) return printJson({ projectId: flags.project, kind: 'token', tokenSecret, previousExpiresAt });
        console.log(`new token secret: ${tokenSecret}`);
        console.log(
          `user tokens signed with the old token secret stop working at ${previousExpiresAt} (within 5 s of that on running servers, open sockets included); sign new tokens with the new secret`,
        );
        return;
      }
      const { key, oldKeysExpireAt } = await service.rotateKey(flags.project, flags.kind, grace);
      await auditLog.record({
        projectId: flags.project,
        actor: CLI_ACTOR,
        action: 'api_key.rotated',
        target: { type: 'project', id: flags.project },
        changes: { kind: flags.kind, oldKeysExpireAt },
      });
      if (flags.json) return printJson({ projectId: flags.project, kind: flags.kind, key, oldKeysExpireAt });
      console.log(`new ${flags.kind} key: ${key}`);
      console.log(`old ${flags.kind} keys stop working at ${oldKeysExpireAt} (within 5 s of that on running servers, open sockets included)`);
    }),
  );
  registerProjectQuotas(projects);

  registerProjectChanges(projects);
}
