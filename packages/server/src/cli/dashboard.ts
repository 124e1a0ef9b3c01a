import type { Command } from 'commander';
import { CLI_ACTOR } from '../domain/actor.js';
import { parseDuration } from '../config.js';
import { withCore, withDatabaseOptions } from './database-options.js';
import { printJson } from './output.js';

function seconds(name: string, raw: string): number {
  return Math.round(parseDuration(name, raw) / 1000);
}

/** Where people open the dashboard by default: this machine's server on the configured port. */
function defaultDashboardUrl(config: { host: string; port: number }): string {
  const host = config.host === '0.0.0.0' || config.host === '::' || config.host === '' ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}/dashboard`;
}

export function registerDashboard(program: Command): void {
  withDatabaseOptions(
    program
      .command('dashboard-link')
      .description('print a one-time link that signs someone in to a project’s dashboard with a role, without the secret key')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--role <role>', 'viewer (reads only) or operator (also moves orders and changes webhook endpoints)')
      .option('--expires <duration>', 'how long the session lasts once the link is opened (e.g. 30m, 8h, 7d)', '8h')
      .option('--link-expires <duration>', 'how long the link can be opened', '15m')
      .option('--url <dashboardUrl>', 'the dashboard’s address as people reach it (default: http://localhost:<port>/dashboard)')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ dashboardSessions, config }) => {
      const link = await dashboardSessions.createLink(
        flags.project,
        { role: flags.role, sessionSeconds: seconds('--expires', flags.expires), linkSeconds: seconds('--link-expires', flags.linkExpires) },
        CLI_ACTOR,
      );
      const url = `${(flags.url ?? defaultDashboardUrl(config)).replace(/\/+$/, '')}#link=${link.token}`;
      if (flags.json) return printJson({ id: link.id, role: link.role, url, linkExpiresAt: link.linkExpiresAt, sessionSeconds: link.sessionSeconds });
      console.log(url);
      console.error(
        `one-time ${link.role} link ${link.id}: open it before ${link.linkExpiresAt}; the session then lasts ${flags.expires}. ` +
          `Revoke with: ordercast dashboard-sessions revoke --project ${flags.project} ${link.id}`,
      );
    }),
  );

  const sessions = program.command('dashboard-sessions').description('list and revoke dashboard sign-in links and sessions');
  withDatabaseOptions(
    sessions
      .command('list')
      .description('a project’s links and sessions, newest first')
      .requiredOption('--project <id>', 'project id')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async ({ dashboardSessions }) => {
      const all = await dashboardSessions.list(flags.project);
      if (flags.json) return printJson(all);
      if (all.length === 0) console.log('no dashboard links yet: make one with `ordercast dashboard-link --project … --role viewer`');
      for (const s of all)
        console.log(`${s.id}  ${s.role.padEnd(8)}  ${s.status.padEnd(10)}  created ${s.createdAt}  expires ${s.expiresAt ?? s.linkExpiresAt}`);
    }),
  );
  withDatabaseOptions(
    sessions
      .command('revoke')
      .description('revoke a link or session: it stops working everywhere within 5 s')
      .argument('<id>', 'the dss_… id')
      .requiredOption('--project <id>', 'project id')
      .option('--json', 'print JSON'),
  ).action(async (id: string, flags) =>
    withCore(flags, async ({ dashboardSessions }) => {
      const revoked = await dashboardSessions.revoke(flags.project, id, CLI_ACTOR);
      if (flags.json) return printJson(revoked);
      console.log(`${revoked.id} ${revoked.status}`);
    }),
  );
}
