import type { OrderEvent } from '../domain/order.js';

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
 * Routes each event of the process's feed to the local subscribers of its
 * topics. It holds no state about delivery: positions and gap filling belong
 * to each subscription (OrderedDelivery).
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
    const keys = [topics.order(event.orderId), topics.project(event.projectId)];
    if (event.userExternalId !== null) keys.push(topics.user(event.projectId, event.userExternalId));
    for (const key of keys) {
      const set = this.topics.get(key);
      if (!set) continue;
      for (const listener of [...set]) listener(event);
    }
  }

  /** Number of topics with at least one local subscriber (for leak checks). */
  get topicCount(): number {
    return this.topics.size;
  }
}
