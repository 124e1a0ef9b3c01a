import type { OrderEvent } from '../domain/order.js';

export type EventListener = (event: OrderEvent) => void;

/**
 * Carries committed events to every reader in every process. It is a hint that
 * wakes readers quickly: readers that miss a message catch up from the event log.
 */
export interface Broker {
  publish(event: OrderEvent): void;
  subscribe(listener: EventListener): () => void;
  close(): Promise<void>;
}
