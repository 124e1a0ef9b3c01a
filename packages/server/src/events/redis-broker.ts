import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LogThrottle } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logging.js';
import { redactUrl } from '../lib/redact-url.js';
import type { ConnectedBroker, HintListener, Interest, LogHint } from './broker.js';
import { InterestSet, parseHint } from './interest.js';
import { MemoryBroker } from './memory-broker.js';

interface Envelope {
  node: string;
  hint: LogHint;
}

/** Orders are spread over this many channels: a node following a few orders hears about a 64th of the others. */
export const ORDER_SHARDS = 64;

/** The shard of an order id: the same on every node (FNV-1a of the id). */
export function orderShard(orderId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < orderId.length; i++) {
    hash ^= orderId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % ORDER_SHARDS;
}

/**
 * Redis pub/sub across server processes, one channel per project and one per shard
 * of order ids under the deployment's prefix. A node subscribes only to what its
 * readers follow (see Broker.follow), so a node whose clients follow nothing of a
 * project neither receives nor wakes for that project's writes; the writer publishes
 * each hint to its project's channel and, for a one-order write, to the order's shard,
 * the hints of one turn of the event loop together (see `send`).
 *
 * Local listeners are called at once, as with MemoryBroker, so a node keeps serving
 * its own writes while Redis is down; messages that come back with this node's id
 * are skipped. Publishing never queues while disconnected: each node's log follower
 * reads the log on a timer too, so a hint Redis did not carry only delays it, and
 * when the subscription comes back every listener is told to read the log once.
 */
export class RedisBroker implements ConnectedBroker {
  readonly transport = 'redis';
  private readonly node = randomUUID();
  private readonly local = new MemoryBroker();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly interests: InterestSet;
  /** Channels subscribed, counted: several followed orders share one shard channel. */
  private readonly channels = new Map<string, number>();
  /** The name of each order shard's channel, made once: every message from another node is checked against one. */
  private readonly shardChannels: string[];
  /** Hints published this turn, not yet sent to Redis (see `send`). */
  private unsent: LogHint[] = [];
  private connected = false;
  private everConnected = false;
  private closed = false;
  /** While Redis stays unreachable, one warning per interval rather than one per reconnect attempt. */
  private readonly unreachableLog = new LogThrottle(30_000);
  private readonly rejectedLog = new LogThrottle(30_000);

  /** `prefix` must be the same for every process of one deployment and differ between deployments. */
  constructor(
    url: string,
    private readonly prefix: string,
    private readonly logger?: Logger,
  ) {
    const options = {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
    };
    this.shardChannels = Array.from({ length: ORDER_SHARDS }, (_, shard) => `${prefix}:o:${shard}`);
    this.publisher = new Redis(url, { ...options, enableOfflineQueue: false });
    this.subscriber = new Redis(url, options);
    this.interests = new InterestSet({
      opened: (interest) => this.retain(this.channelOf(interest)),
      closed: (interest) => this.release(this.channelOf(interest)),
    });
    // Without error listeners ioredis would throw on every failed reconnect.
    this.publisher.on('error', () => {});
    this.subscriber.on('error', (error) => {
      const wasConnected = this.connected;
      this.connected = false;
      // Losing the connection is always said; the failed reconnects after it are rate-limited.
      const notLogged = this.unreachableLog.take('unreachable');
      if (!wasConnected && notLogged === undefined) return;
      logger?.warn(
        { err: error, redis: redactUrl(url), failuresNotLogged: notLogged ?? 0 },
        wasConnected
          ? 'redis broker: connection lost; events are read from the log until it returns'
          : 'redis broker: cannot reach Redis; events are read from the log until it answers',
      );
    });
    this.subscriber.on('close', () => (this.connected = false));
    this.subscriber.on('ready', () => {
      if (!this.connected) logger?.info('redis broker: connected');
      this.connected = true;
      // ioredis subscribes again by itself; hints sent while it was away are found in the log.
      if (this.everConnected) this.local.publish(undefined);
      this.everConnected = true;
    });
    this.subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
  }

  /** Whether the subscription is live; while it is not, other processes' hints are missed and followers find their events on their next read of the log. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Redis channels this node listens on (for tests and the bench). */
  get subscribedChannels(): number {
    return this.channels.size;
  }

  publish(hint: LogHint): void {
    this.local.publish(hint);
    if (this.publisher.status !== 'ready') return;
    if (this.unsent.push(hint) === 1) queueMicrotask(() => this.send());
  }

  /**
   * Sends the hints published since the last call in one pipeline: the appends of one
   * commit batch are published in the same turn, so their project hears once (a project
   * hint names no order) and each order's shard once per order, rather than twice per event.
   */
  private send(): void {
    const hints = this.unsent;
    this.unsent = [];
    if (this.publisher.status !== 'ready') return;
    const byProject = new Map<string, LogHint[]>();
    for (const hint of hints) {
      const group = byProject.get(hint.projectId);
      if (group) group.push(hint);
      else byProject.set(hint.projectId, [hint]);
    }
    const pipeline = this.publisher.pipeline();
    for (const [projectId, group] of byProject) {
      const projectHint = group.length === 1 ? group[0] : { projectId };
      const projectMessage = this.message(projectHint);
      pipeline.publish(this.projectChannel(projectId), projectMessage);
      for (const hint of group) {
        if (hint.orderId !== undefined)
          pipeline.publish(this.shardChannel(orderShard(hint.orderId)), hint === projectHint ? projectMessage : this.message(hint));
      }
    }
    pipeline.exec().catch(() => {});
  }

  private message(hint: LogHint): string {
    return JSON.stringify({ node: this.node, hint } satisfies Envelope);
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
    await this.local.close();
    for (const client of [this.publisher, this.subscriber]) {
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
  }

  private receive(channel: string, message: string): void {
    let envelope: Partial<Envelope> | undefined;
    try {
      envelope = JSON.parse(message) as Partial<Envelope>;
    } catch {
      envelope = undefined;
    }
    if (envelope?.node === this.node) return;
    const hint = parseHint(envelope?.hint);
    if (!hint || typeof envelope?.node !== 'string') return this.reject(channel, 'not a hint from an Ordercast node');
    // A hint names the project or order of its channel: anything else was not published by a node of this deployment.
    const belongs = channel === this.projectChannel(hint.projectId) || (hint.orderId !== undefined && channel === this.shardChannel(orderShard(hint.orderId)));
    if (!belongs) return this.reject(channel, 'names a project or order of another channel');
    // Orders share shard channels, and a subscription may outlive its last follower by a round trip.
    if (this.interests.matches(hint)) this.local.publish(hint);
  }

  private reject(channel: string, reason: string): void {
    const notLogged = this.rejectedLog.take(reason);
    if (notLogged !== undefined)
      this.logger?.warn({ channel, reason, rejectedNotLogged: notLogged }, 'redis broker: ignored a message that is not a hint of this deployment');
  }

  private projectChannel(projectId: string): string {
    return `${this.prefix}:p:${projectId}`;
  }

  private shardChannel(shard: number): string {
    return this.shardChannels[shard] as string;
  }

  private channelOf(interest: Interest): string {
    return 'orderId' in interest ? this.shardChannel(orderShard(interest.orderId)) : this.projectChannel(interest.projectId);
  }

  private retain(channel: string): void {
    const count = this.channels.get(channel) ?? 0;
    this.channels.set(channel, count + 1);
    if (count === 0 && !this.closed) this.subscriber.subscribe(channel).catch(() => {});
  }

  private release(channel: string): void {
    const left = (this.channels.get(channel) ?? 1) - 1;
    if (left > 0) {
      this.channels.set(channel, left);
      return;
    }
    this.channels.delete(channel);
    if (!this.closed) this.subscriber.unsubscribe(channel).catch(() => {});
  }
}
