import type { Command } from 'commander';
import { OrdercastError } from '../domain/errors.js';
import type { Order } from '../domain/order.js';
import { newId } from '../lib/ids.js';
import { VERSION } from '../version.js';
import { eventPayload } from '../domain/webhook-payload.js';
import { generateSecret, SECRET_PREFIX, signatureHeaders } from '../lib/standard-webhooks.js';

interface FeedEvent {
  id: string;
  eventName: string;
  orderId: string;
  toStatus: string;
  version: number;
  createdAt: string;
  data: Order;
}

interface ListenFlags {
  forwardTo: string;
  apiUrl: string;
  apiKey?: string;
  secret?: string;
  events?: string;
}

const WAIT_SECONDS = 25;

/**
 * `ordercast listen --forward-to URL`: follows a running server's event feed and
 * re-sends each event to a local URL, signed with a local secret, exactly as a
 * webhook endpoint would receive it (like `stripe listen`).
 */
export function registerListen(program: Command): void {
  program
    .command('listen')
    .description("forward a running server's events to a local URL as signed webhooks (for local development)")
    .requiredOption('--forward-to <url>', 'where to POST each event, such as http://localhost:3000/webhook')
    .option('--api-url <url>', 'the Ordercast server (env ORDERCAST_URL)', process.env.ORDERCAST_URL ?? 'http://127.0.0.1:8080')
    .option('--api-key <key>', "the project's secret key, sk_… (env ORDERCAST_SECRET_KEY)", process.env.ORDERCAST_SECRET_KEY)
    .option('--secret <whsec>', 'sign with this secret instead of a new one (env ORDERCAST_LISTEN_SECRET)', process.env.ORDERCAST_LISTEN_SECRET)
    .option('--events <names>', 'only these event names, comma-separated')
    .action(async (flags: ListenFlags) => listen(flags));
}

async function listen(flags: ListenFlags): Promise<void> {
  if (!flags.apiKey?.startsWith('sk_')) {
    throw new OrdercastError('unauthorized', 'ordercast listen needs the project secret key: --api-key sk_… or ORDERCAST_SECRET_KEY');
  }
  let target: URL;
  try {
    target = new URL(flags.forwardTo);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new OrdercastError('invalid_webhook_url', `--forward-to must be an http:// or https:// URL (got "${flags.forwardTo}")`);
  }
  if (flags.secret !== undefined && !flags.secret.startsWith(SECRET_PREFIX)) {
    throw new OrdercastError('validation_failed', '--secret must be a whsec_… secret');
  }
  const secret = flags.secret ?? generateSecret();
  const only = flags.events
    ? new Set(
        flags.events
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : undefined;
  const apiUrl = flags.apiUrl.replace(/\/+$/, '');
  // Loaded on use (undici), so that other commands do not pay for it.
  const { HttpSender } = await import('../webhooks/http-sender.js');
  // A local tool forwarding to the developer's own machine: private targets are the point.
  const sender = new HttpSender({ allowPrivate: true, timeout: 15_000, connectTimeout: 5_000, userAgent: `Ordercast/${VERSION} (listen)` });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  let cursor = 'latest';
  let announced = false;
  let failures = 0;
  while (!stop.signal.aborted) {
    let page: { data: FeedEvent[]; nextCursor: string };
    try {
      // The first call answers at once: it checks the key and pins "latest" before saying Ready.
      const wait = announced ? WAIT_SECONDS : 0;
      const response = await fetch(`${apiUrl}/api/v2/events?after=${encodeURIComponent(cursor)}&waitForChange=${wait}&limit=100`, {
        headers: { authorization: `Bearer ${flags.apiKey}` },
        signal: stop.signal,
      });
      const body = (await response.json()) as { data: FeedEvent[]; nextCursor: string; error?: { code: string; message: string } };
      if (!response.ok) {
        if (response.status === 401 || response.status === 403) throw new OrdercastError('unauthorized', body.error?.message ?? 'the API key was refused');
        throw new Error(body.error?.message ?? `HTTP ${response.status}`);
      }
      page = body;
      failures = 0;
    } catch (error) {
      if (stop.signal.aborted) break;
      if (error instanceof OrdercastError) throw error;
      failures++;
      console.error(`cannot reach ${apiUrl} (${(error as Error).message}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** Math.min(failures, 5))));
      continue;
    }
    if (!announced) {
      announced = true;
      console.log(`Ready! Forwarding events from ${apiUrl} to ${target.toString()}`);
      console.log(`Your webhook signing secret is ${secret} (verify signatures with it; pass --secret to keep it across runs)`);
    }
    for (const event of page.data) {
      if (only && !only.has(event.eventName)) continue;
      const body = JSON.stringify(eventPayload({ id: event.id, eventName: event.eventName, createdAt: event.createdAt, order: event.data }));
      const msgId = newId('msg');
      const headers = signatureHeaders([secret], msgId, Math.floor(Date.now() / 1000), body);
      const result = await sender.post(target.toString(), { ...headers }, body);
      const outcome = result.statusCode !== null ? String(result.statusCode) : `error (${result.errorCode}: ${result.error})`;
      console.log(
        `${new Date().toISOString()}  ${event.eventName}  ${event.orderId}  v${event.version}  -> ${outcome}  ${Math.round(result.durationMs)} ms  [${msgId}]`,
      );
    }
    cursor = page.nextCursor;
  }
  await sender.close();
}
