import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerDashboard } from './dashboard.js';
import { registerAdmin } from './admin.js';
import { registerListen } from './listen.js';
import { registerMigrate } from './migrate.js';
import { registerOrders } from './orders.js';
import { reportCliError } from './output.js';
import { registerProjects } from './projects.js';
import { registerServe } from './serve.js';
import { registerTrigger } from './trigger.js';
import { registerWebhookEndpoints } from './webhook-endpoints.js';

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('ordercast')
    .description('Ordercast: order-status tracking server (REST polling, signed webhooks, WebSockets)')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();
  registerServe(program);
  registerMigrate(program);
  registerProjects(program);
  registerAdmin(program);
  registerOrders(program);
  registerWebhookEndpoints(program);
  registerDashboard(program);
  registerListen(program);
  registerTrigger(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    return reportCliError(error);
  }
}
