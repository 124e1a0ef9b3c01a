import type { Command } from 'commander';
import { openMigratedStore } from '../app.js';
import { loadConfig } from '../config.js';
import { withDatabaseOptions } from './database-options.js';

export function registerMigrate(program: Command): void {
  withDatabaseOptions(program.command('migrate').description('bring the database schema up to date (serve also does this at start)')).action(
    async (flags) => {
      const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
      const store = await openMigratedStore(config);
      console.log(`database schema is up to date (${store.dialect}: ${store.location})`);
      await store.close();
    },
  );
}
