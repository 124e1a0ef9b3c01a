import type { Command } from 'commander';
import type { Core } from '../core.js';

export interface DatabaseFlags {
  dataDir?: string;
  databaseUrl?: string;
}

/** Every command that touches the database takes the same two flags as `serve`. */
export function withDatabaseOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'where the embedded SQLite database lives (env ORDERCAST_DATA_DIR)', undefined)
    .option('--database-url <url>', 'postgres://… to use PostgreSQL instead (env DATABASE_URL)', undefined);
}

/** Opens the services for one CLI command, runs it, and always closes the database. */
export async function withCore<T>(flags: DatabaseFlags, work: (core: Core) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: `ordercast --version` or `--help` should not pay for the whole server.
  const [{ createCore }, { loadConfig }, { createLogger }] = await Promise.all([import('../core.js'), import('../config.js'), import('../lib/logging.js')]);
  const config = loadConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  const core = await createCore(config, { logger: createLogger({ level: 'warn', pretty: true, stderr: true }) });
  try {
    return await work(core);
  } finally {
    await core.close();
  }
}
