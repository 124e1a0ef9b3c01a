import { CLI_ACTOR } from '../domain/actor.js';
import type { Command } from 'commander';
import { withCore, withDatabaseOptions } from './database-options.js';
import { graceSeconds } from './grace-option.js';
import { printJson } from './output.js';

/** `ordercast admin …`: the admin API's own keys, made on the server (the first one, or one for a new back office). */
export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('admin keys (ak_…) for the admin API, /api/v2/admin/');

  withDatabaseOptions(
    admin
      .command('create-key')
      .description('create an admin key and print it (shown once: only its hash is stored)')
      .option('--json', 'print one JSON object: id, key, prefix, createdAt'),
  ).action(async (flags) =>
    withCore(flags, async ({ administration }) => {
      const created = await administration.createAdminKey(CLI_ACTOR);
      if (flags.json) return printJson({ id: created.id, key: created.key, prefix: created.prefix, createdAt: created.createdAt });
      console.log(`admin key ${created.id}: ${created.key}`);
      console.log('Shown once: only its hash is stored. Send it as "Authorization: Bearer ak_…" to /api/v2/admin/ (see docs/operations.md, "The admin API").');
    }),
  );

  withDatabaseOptions(admin.command('list-keys').description('list admin keys (never the keys themselves)').option('--json', 'print JSON')).action(
    async (flags) =>
      withCore(flags, async ({ adminKeys }) => {
        const keys = await adminKeys.list();
        if (flags.json) return printJson(keys);
        for (const key of keys)
          console.log(`${key.id}  ${key.prefix}…  ${key.status.padEnd(8)}  created ${key.createdAt}${key.expiresAt ? `  expires ${key.expiresAt}` : ''}`);
      }),
  );

  withDatabaseOptions(
    admin
      .command('rotate-key')
      .description('issue a new admin key; the old one stops working after the grace period')
      .requiredOption('--key <id>', 'the id of the admin key to replace (`ordercast admin list-keys`)')
      .option('--grace <seconds>', 'how long the old key keeps working', '0')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ administration }) => {
      const { key, previous } = await administration.rollAdminKey(flags.key, graceSeconds(flags.grace), CLI_ACTOR);
      if (flags.json) return printJson({ id: key.id, key: key.key, previous });
      console.log(`new admin key ${key.id}: ${key.key}`);
      console.log(`the old admin key ${previous.id} stops working at ${previous.expiresAt} (within 5 s of that on running servers)`);
    }),
  );
}
