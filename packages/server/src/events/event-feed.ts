import type { OrderEvent } from '../domain/order.js';
import type { Logger } from '../logging.js';
import type { EventLogReader } from '../services/event-log-reader.js';
import type { Broker, EventListener } from './broker.js';

export interface EventFeedOptions {
  /** How often the log is read for events no broker message announced. */
  pollMs: number;
  /**
   * How far behind its own position the tailer looks again, in log positions. On
   * PostgreSQL a transaction that took seq 10 can commit after the one that took
   * seq 11; re-reading a window catches it late instead of never.
   */
  lookback?: number;
  batchSize?: number;
}

/**
 * The one stream of committed events a server process fans out: broker messages
 * (fast) merged with a tail of the event log (certain), each event once by seq.
 * A node that missed broker messages — Redis down, or a write from another
 * process such as the CLI — still delivers them, at most `pollMs` later.
 */
export class EventFeed {
  private readonly listeners = new Set<EventListener>();
  private readonly seen = new Set<number>();
  private readonly lookback: number;
  private readonly batchSize: number;
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private unsubscribeBroker: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly broker: Broker,
    private readonly reader: EventLogReader,
    private readonly options: EventFeedOptions,
    private readonly logger?: Logger,
  ) {
    this.lookback = options.lookback ?? 256;
    this.batchSize = options.batchSize ?? 500;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts from the current end of the log: history is served by the gateways, not replayed here. */
  async start(): Promise<void> {
    this.cursor = await this.reader.latestSeq();
    this.unsubscribeBroker = this.broker.subscribe((event) => this.accept(event));
    if (this.options.pollMs > 0) this.schedule();
  }

  /** Reads the log now (tests and shutdown use it; the timer calls it otherwise). */
  poll(): Promise<void> {
    this.polling ??= this.readLog().finally(() => (this.polling = undefined));
    return this.polling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribeBroker?.();
    await this.polling?.catch(() => {});
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch((error) => this.logger?.warn({ err: error }, 'event feed: reading the log failed; retrying'))
        .finally(() => this.schedule());
    }, this.options.pollMs);
    this.timer.unref();
  }

  private accept(event: OrderEvent): void {
    if (this.stopped || this.seen.has(event.seq) || event.seq <= this.cursor - this.lookback) return;
    this.seen.add(event.seq);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger?.error({ err: error }, 'event feed: a listener failed');
      }
    }
  }

  private async readLog(): Promise<void> {
    for (let round = 0; round < 100 && !this.stopped; round++) {
      const from = Math.max(0, this.cursor - this.lookback);
      const seqs = await this.reader.seqsAfter(from, this.lookback + this.batchSize);
      const missing = seqs.filter((seq) => !this.seen.has(seq));
      if (missing.length > 0) {
        for (const event of await this.reader.eventsBySeqs(missing)) this.accept(event);
      }
      const top = seqs.length > 0 ? (seqs[seqs.length - 1] as number) : this.cursor;
      const advanced = top > this.cursor;
      if (advanced) this.cursor = top;
      this.forgetBefore(this.cursor - this.lookback);
      if (!advanced || seqs.length < this.lookback + this.batchSize) return;
    }
  }

  /** Seqs below the window are never read again, so they need not be remembered. */
  private forgetBefore(limit: number): void {
    if (this.seen.size < 4 * (this.lookback + this.batchSize)) return;
    for (const seq of this.seen) if (seq <= limit) this.seen.delete(seq);
  }
}
