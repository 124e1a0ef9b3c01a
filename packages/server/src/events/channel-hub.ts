import type { OrderEvent } from '../domain/order.js';
import { tracingEnabled } from '../lib/tracing.js';
import { tracePush } from './push-span.js';

export type HubListener = (event: OrderEvent) => void;

/** The topics an event is fanned out to. Both gateways subscribe to these. */
export const topics = {
  order: (orderId: string) => `order:${orderId}`,
  project: (projectId: string) => `project:${projectId}`,
  user: (projectId: string, userExternalId: string) => `user:${projectId}:${userExternalId}`,
};

/** The project or order a topic's events belong to, for Broker.follow: a user channel follows its project. */
export function interestOfTopic(topic: string): { projectId: string } | { orderId: string } | undefined {
  const [kind, id] = topic.split(':');
  if (!id) return undefined;
  return kind === 'order' ? { orderId: id } : kind === 'project' || kind === 'user' ? { projectId: id } : undefined;
}

/**
 * Routes each event of the log follower to the local subscribers of its topics, in
 * the follower's commit order. It holds no state about delivery: positions belong to
 * each subscription (OrderedDelivery, ProjectFeedSubscription).
 */
export class ChannelHub {
  private readonly topics = new Map<string, Set<HubListener>>();
  private readonly released = new Map<string, () => void>();

  /** `follow(topic)` is called when a topic gets its first local subscriber, and what it returns when the last one leaves. */
  constructor(private readonly follow?: (topic: string) => () => void) {}

  subscribe(topic: string, listener: HubListener): () => void {
    let set = this.topics.get(topic);
    if (!set) {
      this.topics.set(topic, (set = new Set()));
      if (this.follow) this.released.set(topic, this.follow(topic));
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.topics.get(topic) === set) {
        this.topics.delete(topic);
        this.released.get(topic)?.();
        this.released.delete(topic);
      }
    };
  }

  dispatch(event: OrderEvent): void {
    if (tracingEnabled()) return this.dispatchTraced(event);
    this.deliver(topics.order(event.orderId), event);
    this.deliver(topics.project(event.projectId), event);
    if (event.userExternalId !== null) this.deliver(topics.user(event.projectId, event.userExternalId), event);
  }

  /** The same, as a push span, when the event has local subscribers (events/push-span.ts). */
  private dispatchTraced(event: OrderEvent): void {
    const followed = [topics.order(event.orderId), topics.project(event.projectId)];
    if (event.userExternalId !== null) followed.push(topics.user(event.projectId, event.userExternalId));
    const subscribed = followed.filter((topic) => this.topics.has(topic));
    if (subscribed.length === 0) return;
    const subscribers = subscribed.reduce((sum, topic) => sum + this.topics.get(topic)!.size, 0);
    tracePush(event, subscribed, subscribers, () => {
      for (const topic of followed) this.deliver(topic, event);
    });
  }

  private deliver(topic: string, event: OrderEvent): void {
    const set = this.topics.get(topic);
    if (!set) return;
    // Most topics have one listener (a socket following an order): call it without copying the set.
    if (set.size === 1) return (set.values().next().value as HubListener)(event);
    // A copy: a listener may subscribe or unsubscribe others while the event goes round.
    for (const listener of [...set]) listener(event);
  }

  /** Number of topics with at least one local subscriber (for leak checks). */
  get topicCount(): number {
    return this.topics.size;
  }

  /** Number of listeners over every topic (for leak checks). */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.topics.values()) count += set.size;
    return count;
  }
}
