import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { App } from '../app.js';
import { DEFAULT_DASHBOARD_DIR, loadConfig } from '../config.js';
import type { CreatedProject } from '../services/project-service.js';

function demoInstructions(baseUrl: string, demo: CreatedProject): string {
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
 * The sign-in link carries the demo secret key in the URL fragment, which browsers
 * never send to the server, so it stays out of request logs.
 */
function dashboardLine(baseUrl: string, demoSecretKey: string | undefined): string {
  const built = existsSync(path.join(DEFAULT_DASHBOARD_DIR, 'index.html'));
  const link = demoSecretKey ? `${baseUrl}/dashboard#key=${demoSecretKey}` : `${baseUrl}/dashboard`;
  return `\n  Dashboard: ${link}${built ? '' : '  (not built yet: run `npm run build`)'}\n`;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Ordercast server')
    .option('-p, --port <port>', 'port to listen on (env ORDERCAST_PORT, default 8080)')
    .option('--host <host>', 'address to listen on (env ORDERCAST_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'where the embedded SQLite database lives (env ORDERCAST_DATA_DIR, default ./.ordercast)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (env DATABASE_URL)')
    .option('--redis-url <url>', 'redis://… to share events between server processes (env REDIS_URL)')
    .option(
      '--database-listen-url <url>',
      'postgres://… direct connection for LISTEN when --database-url goes through a transaction pooler such as PgBouncer (env ORDERCAST_DATABASE_LISTEN_URL)',
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus /metrics on this port of ORDERCAST_METRICS_HOST (default 127.0.0.1), never on the API port; 0 picks a free port, `off` serves none (env ORDERCAST_METRICS_PORT, default 9464)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (env ORDERCAST_LOG_LEVEL)')
    .option('--no-demo', 'do not create a demo project in an empty database')
    .action(async (flags) => {
      const config = loadConfig({
        port: flags.port,
        host: flags.host,
        dataDir: flags.dataDir,
        databaseUrl: flags.databaseUrl,
        redisUrl: flags.redisUrl,
        databaseListenUrl: flags.databaseListenUrl,
        logLevel: flags.logLevel,
        metricsPort: flags.metricsPort,
        demo: flags.demo === false ? false : undefined,
      });
      // Loaded on use, so that other commands do not pay for the server graph.
      const { createApp } = await import('../app.js');
      const app: App = await createApp(config);
      let demo: CreatedProject | undefined;
      const projectCount = await app.projects.count();
      if (config.demo && projectCount === 0) {
        demo = await app.projects.create({ name: 'Demo shop', lifecycle: 'onramp' });
      }
      let url: string;
      try {
        url = await app.listen();
      } catch (error) {
        // A port already taken: release the database and the broker, so the process can exit.
        await app.close().catch(() => {});
        throw error;
      }
      app.logger.info({ url, metricsUrl: app.metricsUrl, database: app.store.dialect, location: app.store.location }, `Ordercast listening on ${url}`);
      if (demo) process.stdout.write(demoInstructions(url, demo));
      else if (projectCount > 0) {
        app.logger.info(
          `${projectCount} project(s) in the database. Keys are shown only when made: \`npx ordercast projects create --name … --lifecycle onramp\` creates a project, \`npx ordercast projects rotate-key\` a new key`,
        );
      }
      process.stdout.write(dashboardLine(url, demo?.secretKey));

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            app.logger.warn('second signal: exiting at once');
            process.exit(1);
          }
          stopping = true;
          app.logger.info({ signal }, 'shutting down: finishing in-flight requests');
          app
            .close()
            .catch((error) => app.logger.error({ err: error }, 'error during shutdown'))
            .finally(() => {
              app.logger.info('stopped');
              resolve();
            });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
