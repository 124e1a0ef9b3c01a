import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LogThrottle } from '../log-throttle.js';
import { redactUrl } from '../store/database.js';
import type { Logger } from '../logging.js';
import type { Broker, HintListener, LogHint } from './broker.js';
import { MemoryBroker } from './memory-broker.js';

interface Envelope {
  node: string;
  hint: LogHint;
}

/**
 * Redis pub/sub across server processes. Local listeners are called at once, as
 * with MemoryBroker, so a node keeps serving its own writes while Redis is down;
 * messages that come back from Redis with this node's id are skipped.
 * Publishing never queues while disconnected: each node's log follower reads the log
 * on a timer too, so a hint Redis did not carry only delays it.
 */
export class RedisBroker implements Broker {
  private readonly node = randomUUID();
  private readonly local = new MemoryBroker();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private connected = false;
  private closed = false;
  /** While Redis stays unreachable, one warning per interval rather than one per reconnect attempt. */
  private readonly unreachableLog = new LogThrottle(30_000);

  /** `channel` must be the same for every process of one deployment and differ between deployments. */
  constructor(url: string, private readonly channel: string, logger?: Logger) {
    const options = {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
    };
    this.publisher = new Redis(url, { ...options, enableOfflineQueue: false });
    this.subscriber = new Redis(url, options);
    // Without error listeners ioredis would throw on every failed reconnect.
    this.publisher.on('error', () => {});
    this.subscriber.on('error', (error) => {
      const wasConnected = this.connected;
      this.connected = false;
      const notLogged = wasConnected ? 0 : this.unreachableLog.take('unreachable');
      if (notLogged === undefined) return;
      logger?.warn(
        { err: error, redis: redactUrl(url), failuresNotLogged: notLogged },
        wasConnected ? 'redis broker: connection lost; events are read from the log until it returns' : 'redis broker: cannot reach Redis; events are read from the log until it answers',
      );
    });
    this.subscriber.on('ready', () => {
      if (!this.connected) logger?.info('redis broker: connected');
      this.connected = true;
    });
    this.subscriber.subscribe(channel).catch(() => {});
    this.subscriber.on('message', (_channel: string, message: string) => {
      let envelope: Envelope;
      try {
        envelope = JSON.parse(message) as Envelope;
      } catch {
        return;
      }
      if (envelope.node !== this.node && typeof envelope.hint?.projectId === 'string') this.local.publish(envelope.hint);
    });
  }

  /** Whether the subscription is live; while it is not, other processes' hints are missed and followers find their events on their next read of the log. */
  get isConnected(): boolean {
    return this.connected;
  }

  publish(hint: LogHint): void {
    this.local.publish(hint);
    if (this.publisher.status !== 'ready') return;
    this.publisher.publish(this.channel, JSON.stringify({ node: this.node, hint } satisfies Envelope)).catch(() => {});
  }

  subscribe(listener: HintListener): () => void {
    return this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.local.close();
    for (const client of [this.publisher, this.subscriber]) {
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
  }
}
