import type { Command } from 'commander';
import { CLI_ACTOR } from '../domain/actor.js';
import { MAX_PAGE_SIZE, type Order } from '../domain/order.js';
import { OrdercastError } from '../domain/errors.js';
import { withCore, withDatabaseOptions } from './database-options.js';
import { printJson } from './output.js';

function printOrder(order: Order, json: boolean): void {
  if (json) return printJson(order);
  console.log(`${order.id}  ${order.status}  v${order.version}${order.final ? ' (final)' : ''}`);
  if (order.externalId) console.log(`  externalId      ${order.externalId}`);
  if (order.userExternalId) console.log(`  userExternalId  ${order.userExternalId}`);
  if (order.amount) console.log(`  amount          ${order.amount} ${order.currency ?? ''}`);
  for (const h of order.statusHistory) console.log(`  v${h.version}  ${h.at}  ${h.status}${h.reason ? `  (${h.reason})` : ''}`);
}

/** Commander's way to let an option repeat: each value is appended. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseMetadata(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new OrdercastError('invalid_json', '--metadata must be a JSON object, such as \'{"cart":"c-42"}\'');
  }
}

export function registerOrders(program: Command): void {
  const orders = program.command('orders').description('create, read and move orders (for operators and demos)');

  withDatabaseOptions(
    orders
      .command('create')
      .description('create an order')
      .requiredOption('--project <id>', 'project id')
      .option('--external-id <id>', "the merchant's own reference")
      .option('--user <userExternalId>', 'the end customer')
      .option('--amount <decimal>', 'amount, such as 25.00')
      .option('--currency <code>', 'currency, such as EUR')
      .option('--status <status>', 'initial status (default: the lifecycle first initial status)')
      .option('--metadata <json>', 'a JSON object')
      .option('--json', 'print JSON'),
  ).action(async (flags) =>
    withCore(flags, async (core) => {
      const { body: order } = await core.orders.create(
        flags.project,
        {
          externalId: flags.externalId,
          userExternalId: flags.user,
          amount: flags.amount,
          currency: flags.currency,
          status: flags.status,
          metadata: parseMetadata(flags.metadata),
        },
        undefined,
        CLI_ACTOR,
      );
      printOrder(order, Boolean(flags.json));
    }),
  );

  withDatabaseOptions(
    orders
      .command('list')
      .description('list orders, newest first (one page; --cursor for the next)')
      .requiredOption('--project <id>', 'project id')
      .option('--status <status>', 'only orders in this status; repeat for any of several', collect, [])
      .option('--user <userExternalId>', "only this end customer's orders")
      .option('--external-id <id>', "only the order with this merchant's reference")
      .option('--limit <n>', `orders per page, 1 to ${MAX_PAGE_SIZE}`, '20')
      .option('--cursor <cursor>', 'the nextCursor of the page before')
      .option('--json', 'print the page as JSON: data, hasMore, nextCursor'),
  ).action(async (flags) =>
    withCore(flags, async (core) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit)) throw new OrdercastError('validation_failed', `--limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
      const page = await core.orders.list(flags.project, {
        status: flags.status.length > 0 ? flags.status : undefined,
        userExternalId: flags.user,
        externalId: flags.externalId,
        limit,
        cursor: flags.cursor,
      });
      if (flags.json) return printJson(page);
      if (page.data.length === 0) console.log('no orders');
      for (const order of page.data) {
        console.log(`${order.id}  ${order.status.padEnd(20)}  v${String(order.version).padEnd(3)}  ${order.createdAt}  ${order.userExternalId ?? ''}`);
      }
      if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
    }),
  );

  withDatabaseOptions(
    orders.command('get').description('show an order').argument('<orderId>').requiredOption('--project <id>', 'project id').option('--json', 'print JSON'),
  ).action(async (orderId, flags) => withCore(flags, async (core) => printOrder(await core.orders.get(flags.project, orderId), Boolean(flags.json))));

  withDatabaseOptions(
    orders
      .command('transition')
      .description('move an order to a new status')
      .argument('<orderId>')
      .argument('<status>')
      .requiredOption('--project <id>', 'project id')
      .option('--reason <text>', 'why, for the history')
      .option('--expected-version <n>', 'refuse if the order is not at this version')
      .option('--json', 'print JSON'),
  ).action(async (orderId, status, flags) =>
    withCore(flags, async (core) => {
      const expectedVersion = flags.expectedVersion === undefined ? undefined : Number(flags.expectedVersion);
      if (expectedVersion !== undefined && !Number.isInteger(expectedVersion)) {
        throw new OrdercastError('validation_failed', '--expected-version must be a whole number');
      }
      const { body: order } = await core.orders.transition(flags.project, orderId, { status, reason: flags.reason, expectedVersion }, undefined, CLI_ACTOR);
      printOrder(order, Boolean(flags.json));
    }),
  );
}
