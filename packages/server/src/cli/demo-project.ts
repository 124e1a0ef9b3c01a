import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Config, DEFAULT_DASHBOARD_DIR } from '../config.js';
import type { Logger } from '../lib/logging.js';
import type { CreatedProject } from '../services/project-service.js';

/**
 * Why `serve` makes no demo project in an empty database, or undefined when it does.
 * The demo's keys are shown once, so they go only to a person at a terminal: never
 * into a log stream that a collector keeps (JSON lines, or output that is not a
 * terminal). A production deployment, or one on PostgreSQL, starts with no project.
 */
export function whyNoDemoProject(config: Config, dialect: 'sqlite' | 'postgres', stdoutIsTerminal: boolean): string | undefined {
  if (!config.demo) return 'turned off with --no-demo or ORDERCAST_DEMO=false';
  if (config.production) return 'NODE_ENV=production';
  if (dialect === 'postgres') return 'never on PostgreSQL';
  if (!stdoutIsTerminal || !config.logPretty) return 'its keys are printed only to a terminal, never into a log';
  return undefined;
}

export function demoInstructions(baseUrl: string, demo: CreatedProject): string {
  const sk = demo.secretKey;
  return `
  A demo project was created (lifecycle "${demo.project.lifecycle.name}"). Its keys are shown once, now:

    project id       ${demo.project.id}
    secret key       ${sk}
    publishable key  ${demo.publishableKey}
    token secret     ${demo.tokenSecret}

  Try it:

    curl -s -X POST ${baseUrl}/api/v2/orders \\
      -H 'Authorization: Bearer ${sk}' -H 'Content-Type: application/json' \\
      -d '{"externalId":"demo-1","userExternalId":"user-1","amount":"25.00","currency":"EUR"}'

    curl -s ${baseUrl}/api/v2/orders/<order id> -H 'Authorization: Bearer ${sk}'

    curl -s -X POST ${baseUrl}/api/v2/orders/<order id>/status \\
      -H 'Authorization: Bearer ${sk}' -H 'Content-Type: application/json' \\
      -d '{"status":"PROCESSING"}'

  API docs: ${baseUrl}/docs
`;
}

/**
 * Where the dashboard is. On a terminal, a line of its own; the demo's sign-in link carries
 * its key in the URL fragment, which browsers never send to the server. In a JSON log, a
 * log line like any other, with the plain URL (there is never a demo key to show there).
 */
export function announceDashboard(baseUrl: string, demoSecretKey: string | undefined, humanLogs: boolean, logger: Logger): void {
  const built = existsSync(path.join(DEFAULT_DASHBOARD_DIR, 'index.html'));
  const dashboardUrl = `${baseUrl}/dashboard`;
  const notBuilt = built ? '' : '  (not built yet: run `npm run build`)';
  if (!humanLogs) {
    logger.info({ dashboardUrl, built }, `Dashboard: ${dashboardUrl}${notBuilt}`);
    return;
  }
  const link = demoSecretKey ? `${dashboardUrl}#key=${demoSecretKey}` : dashboardUrl;
  process.stdout.write(`\n  Dashboard: ${link}${notBuilt}\n`);
}
