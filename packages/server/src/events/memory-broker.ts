import type { Broker, HintListener, LogHint } from './broker.js';

/** The single-process broker: listeners run synchronously, right after the commit. */
export class MemoryBroker implements Broker {
  private readonly listeners = new Set<HintListener>();

  publish(hint: LogHint | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(hint);
      } catch {
        // One faulty reader must not stop the others.
      }
    }
  }

  subscribe(listener: HintListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every hint is local here, so every hint is wanted. */
  follow(): () => void {
    return () => {};
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
