import type { Command } from 'commander';
import type { App } from '../app.js';
import { loadConfig } from '../config.js';
import type { CreatedProject } from '../services/project-service.js';
import { announceDashboard, demoInstructions, whyNoDemoProject } from './demo-project.js';
import { announceFirstAdminKey } from './admin-bootstrap.js';

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
    .option('--database-pool-size <n>', 'PostgreSQL: connections for queries, besides the one LISTEN connection (env ORDERCAST_DATABASE_POOL_SIZE, default 10)')
    .option('--no-demo', 'do not create a demo project in an empty database (never made on PostgreSQL, with NODE_ENV=production, or off a terminal)')
    .action(async (flags) => {
      const config = loadConfig({
        port: flags.port,
        host: flags.host,
        dataDir: flags.dataDir,
        databaseUrl: flags.databaseUrl,
        redisUrl: flags.redisUrl,
        databaseListenUrl: flags.databaseListenUrl,
        databasePoolSize: flags.databasePoolSize,
        logLevel: flags.logLevel,
        metricsPort: flags.metricsPort,
        demo: flags.demo === false ? false : undefined,
      });
      // Loaded on use, so that other commands do not pay for the server graph.
      const { createApp } = await import('../app.js');
      const app: App = await createApp(config);
      let demo: CreatedProject | undefined;
      const projectCount = await app.projects.count();
      const noDemo = whyNoDemoProject(config, app.store.dialect, Boolean(process.stdout.isTTY));
      if (projectCount === 0 && noDemo === undefined) {
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
      await announceFirstAdminKey(app, Boolean(process.stdout.isTTY) && config.logPretty);
      if (demo) process.stdout.write(demoInstructions(url, demo));
      else if (projectCount > 0) {
        app.logger.info(
          `${projectCount} project(s) in the database. Keys are shown only when made: \`npx ordercast projects create --name … --lifecycle onramp\` creates a project, \`npx ordercast projects rotate-key\` a new key`,
        );
      } else {
        app.logger.info(
          { demoProject: noDemo },
          `No project yet, and no demo project (${noDemo}): \`npx ordercast projects create --name … --lifecycle onramp\` creates one and prints its keys`,
        );
      }
      announceDashboard(url, demo?.secretKey, config.logPretty, app.logger);

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
