import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
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
      if (this.connected) logger?.warn({ err: error }, 'redis broker: connection lost; events are read from the log until it returns');
      this.connected = false;
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
