import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { LogThrottle } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logging.js';
import { redactUrl } from '../lib/redact-url.js';
import type { ConnectedBroker, HintListener, Interest, LogHint } from './broker.js';
import { InterestSet, parseHint } from './interest.js';
import { MemoryBroker } from './memory-broker.js';

export interface PostgresBrokerOptions {
  /** A direct connection for LISTEN (not through a transaction pooler, which would hand the session to others). */
  listenUrl: string;
  /** The deployment's channel (store/pg-notify.ts). */
  channel: string;
  /** Sends notifications; through the store's pool, pooler or not. */
  notify(channel: string, payloads: string[]): Promise<void>;
  logger?: Logger;
  /** Longest wait between attempts to get the LISTEN connection back. */
  maxReconnectDelayMs?: number;
}

interface Envelope {
  node: string;
  hint: LogHint;
}

/**
 * Nodes of one PostgreSQL database wake each other through it, no Redis needed: each
 * write's hint goes out with NOTIFY, and every node LISTENs on one connection of its
 * own. A notification carries only the hint (project, order); the node then reads the
 * log through its follower, and only when the hint concerns something its readers
 * follow. Local listeners are called at once, as with MemoryBroker.
 *
 * When the LISTEN connection drops (restart, failover, a terminated backend), the node
 * says so (isConnected, /readyz, metrics), connects again with backoff, and once it
 * listens again tells every listener to read the log: notifications sent meanwhile are
 * lost, the events are not.
 */
export class PostgresBroker implements ConnectedBroker {
  readonly transport = 'postgres';
  private readonly node = randomUUID();
  private readonly local = new MemoryBroker();
  private readonly interests = new InterestSet();
  private client: pg.Client | undefined;
  private connected = false;
  private everConnected = false;
  private closed = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pending = new Set<string>();
  private sending: Promise<void> | undefined;
  private readonly lossLog = new LogThrottle(30_000);
  private readonly rejectedLog = new LogThrottle(30_000);
  private readonly sendLog = new LogThrottle(30_000);

  constructor(private readonly options: PostgresBrokerOptions) {}

  /** Connects and listens; resolves once listening, or after the first failure (it keeps trying in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The server process id of the LISTEN connection (what an operator or a test would terminate). */
  get listenBackendPid(): number | undefined {
    return this.connected ? (this.client as unknown as { processID?: number } | undefined)?.processID : undefined;
  }

  publish(hint: LogHint): void {
    this.local.publish(hint);
    if (this.closed) return;
    this.pending.add(JSON.stringify({ node: this.node, hint } satisfies Envelope));
    this.sending ??= this.send();
  }

  subscribe(listener: HintListener): () => void {
    return this.local.subscribe(listener);
  }

  follow(interest: Interest): () => void {
    return this.interests.follow(interest);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.sending;
    await this.local.close();
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    await client?.end().catch(() => {});
  }

  /** Hints published while a NOTIFY is on its way go out together in the next one. */
  private async send(): Promise<void> {
    try {
      while (this.pending.size > 0 && !this.closed) {
        const payloads = [...this.pending];
        this.pending.clear();
        try {
          await this.options.notify(this.options.channel, payloads);
        } catch (error) {
          const notLogged = this.sendLog.take('notify');
          if (notLogged !== undefined) {
            this.options.logger?.warn(
              { err: error, failuresNotLogged: notLogged },
              'postgres broker: NOTIFY failed; other nodes find these events on their next read of the log',
            );
          }
        }
      }
    } finally {
      // In the same tick as the last look at `pending`: a hint published after it starts a new send.
      this.sending = undefined;
    }
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.options.listenUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5_000,
      application_name: 'ordercast-listen',
    });
    // Without this listener a dropped connection would crash the process.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, undefined));
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.receive(message.payload);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`listen "${this.options.channel}"`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.closed || this.client !== client) return;
    this.attempts = 0;
    this.connected = true;
    if (this.everConnected) {
      this.options.logger?.info('postgres broker: listening again; reading the log for what was missed');
      this.local.publish(undefined);
    }
    this.everConnected = true;
  }

  private lost(client: pg.Client, error: Error | undefined): void {
    if (this.client !== client || this.closed) return;
    const wasConnected = this.connected;
    this.connected = false;
    this.client = undefined;
    client.end().catch(() => {});
    const notLogged = this.lossLog.take('lost');
    if (wasConnected || notLogged !== undefined) {
      this.options.logger?.warn(
        { err: error, database: redactUrl(this.options.listenUrl), failuresNotLogged: notLogged ?? 0 },
        wasConnected
          ? "postgres broker: LISTEN connection lost; other nodes' events are read from the log until it returns"
          : "postgres broker: cannot LISTEN; other nodes' events are read from the log until it can",
      );
    }
    const delay = Math.min(100 * 2 ** this.attempts++, this.options.maxReconnectDelayMs ?? 2_000);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private receive(payload: string | undefined): void {
    let envelope: Partial<Envelope> | undefined;
    try {
      envelope = JSON.parse(payload ?? '') as Partial<Envelope>;
    } catch {
      envelope = undefined;
    }
    if (envelope?.node === this.node) return;
    const hint = typeof envelope?.node === 'string' ? parseHint(envelope.hint) : undefined;
    if (!hint) {
      const notLogged = this.rejectedLog.take('malformed');
      if (notLogged !== undefined) {
        this.options.logger?.warn(
          { channel: this.options.channel, payload: String(payload).slice(0, 100), rejectedNotLogged: notLogged },
          'postgres broker: ignored a notification that is not a hint of an Ordercast node',
        );
      }
      return;
    }
    if (this.interests.matches(hint)) this.local.publish(hint);
  }
}
