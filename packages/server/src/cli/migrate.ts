import type { Command } from 'commander';
import { withDatabaseOptions } from './database-options.js';

export function registerMigrate(program: Command): void {
  withDatabaseOptions(program.command('migrate').description('bring the database schema up to date (serve also does this at start)')).action(async (flags) => {
    // Loaded on use, so that other commands do not pay for the server graph.
    const [{ openStoreWithSecrets }, { loadConfig }, { createLogger }] = await Promise.all([
      import('../core.js'),
      import('../config.js'),
      import('../lib/logging.js'),
    ]);
    const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
    // Stored secrets are brought to the current encryption key too; warnings go to stderr.
    const { store } = await openStoreWithSecrets(config, createLogger({ level: 'warn', pretty: true, stderr: true }));
    console.log(`database schema is up to date (${store.dialect}: ${store.location})`);
    await store.close();
  });
}
