import type { OrderEvent } from '../domain/order.js';
import type { Broker, EventListener } from './broker.js';

/** The single-process broker: listeners run synchronously after the commit. */
export class MemoryBroker implements Broker {
  private readonly listeners = new Set<EventListener>();

  publish(event: OrderEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One faulty reader must not stop the others.
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
