import type { Command } from 'commander';
import { openMigratedStore } from '../app.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logging.js';
import { withDatabaseOptions } from './database-options.js';

export function registerMigrate(program: Command): void {
  withDatabaseOptions(program.command('migrate').description('bring the database schema up to date (serve also does this at start)')).action(
    async (flags) => {
      const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
      // Warnings (such as secrets left in plain text) go to stderr, next to the command's output.
      const store = await openMigratedStore(config, createLogger({ level: 'warn', pretty: true, stderr: true }));
      console.log(`database schema is up to date (${store.dialect}: ${store.location})`);
      await store.close();
    },
  );
}
