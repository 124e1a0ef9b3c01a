import type { Command } from 'commander';
import { QUOTA_NAMES, QUOTA_UNITS, type QuotaChange, type QuotaName } from '../domain/quotas.js';
import { withCore, withDatabaseOptions } from './database-options.js';
import { printJson } from './output.js';

/** `--writes-per-second` for `writes_per_second`, and so on. */
function flagOf(quota: QuotaName): string {
  return quota.replace(/_/g, '-');
}

/** commander's camel-cased property for a quota's flag. */
function propertyOf(quota: QuotaName): string {
  return quota.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A flag's text as the service takes it: `default` clears the override; anything else must be a number (the service checks which). */
function quotaValue(text: string): number | null {
  return text.trim().toLowerCase() === 'default' ? null : Number(text);
}

/** `ordercast projects quotas`: shows a project's quotas, and sets or clears its overrides (the same service as the admin API). */
export function registerProjectQuotas(projects: Command): void {
  const command = projects
    .command('quotas')
    .description("show a project's quotas; with a quota's flag, set it for this project (`default` returns it to the server's default)")
    .requiredOption('--project <id>', 'project id');
  for (const quota of QUOTA_NAMES) command.option(`--${flagOf(quota)} <n>`, `${QUOTA_UNITS[quota]} (a whole number, or \`default\`)`);
  command.option('--json', 'print JSON');
  withDatabaseOptions(command).action(async (flags: Record<string, string | boolean | undefined>) =>
    withCore(flags as { dataDir?: string; databaseUrl?: string }, async ({ projectQuotas }) => {
      const change: QuotaChange = {};
      for (const quota of QUOTA_NAMES) {
        const text = flags[propertyOf(quota)];
        if (typeof text === 'string') change[quota] = quotaValue(text);
      }
      const projectId = flags.project as string;
      const view = Object.keys(change).length > 0 ? await projectQuotas.update(projectId, change) : await projectQuotas.describe(projectId);
      if (flags.json) return printJson(view);
      console.log(`quotas of project ${view.projectId}${Object.keys(change).length > 0 ? ' (running servers apply them within 5 s)' : ''}`);
      for (const quota of QUOTA_NAMES) {
        const source = view.overrides[quota] !== undefined ? 'this project' : 'server default';
        console.log(`  ${quota.padEnd(18)} ${String(view.quotas[quota]).padStart(9)}  (${source})`);
      }
    }),
  );
}
