import { isAfter, type LogPosition, type OrderEvent } from '../domain/order.js';
import type { Logger } from '../lib/logging.js';
import type { LogReading } from '../store/log-reading.js';
import type { Broker } from './broker.js';

export type EventListener = (event: OrderEvent) => void;

export interface LogFollowerOptions {
  /** How often the log is read when no hint arrived: the bound on how late a missed hint makes an event. */
  pollMs: number;
  batchSize?: number;
  /**
   * Reads once more this long after a hint (0: never), and again at twice the delay each
   * time, up to SETTLE_TRIES reads, while nothing has arrived since the hint. On PostgreSQL
   * a commit is only readable once every transaction that started before it has ended,
   * across the whole cluster (store/log-reading.ts), so a hint can arrive while its event
   * is still held back by an unrelated transaction; this bounds that wait without waiting
   * for the timer, and without the timer (pollMs 0) it still comes.
   */
  settleMs?: number;
  /** Told of every read of the log (events may be empty) and every failed one: the follower's lag and liveness in metrics and traces. */
  observer?: LogReadObserver;
}

export interface LogReadObserver {
  /** Around one read: `read` runs it; the observer may time it (the follower's span). */
  reading?<T extends readonly OrderEvent[]>(read: () => Promise<T>): Promise<T>;
  read?(events: readonly OrderEvent[]): void;
  failed?(error: unknown): void;
}

/** Settling reads after one hint at most: 50 ms doubling 8 times reaches ~13 s. */
const SETTLE_TRIES = 8;

/**
 * The one follower of the log in a server process. It keeps a single commit-ordered
 * cursor (store/log-reading.ts), so it never skips an event and never delivers one
 * twice, and hands each event, in log order, to every listener: the real-time hub,
 * long-poll waiters, the events feed and the webhook dispatcher. Hints (a local
 * append, a broker message from another node) make it read at once; the timer makes
 * it read anyway, so correctness never depends on a hint arriving.
 */
export class LogFollower {
  private readonly listeners = new Set<EventListener>();
  private readonly batchSize: number;
  private position: LogPosition = { txId: 0, seq: 0 };
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  /** A hint came and no event has been delivered since: settling reads go on. */
  private hintUnanswered = false;
  private stopHints: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly log: LogReading,
    private readonly hints: Broker,
    private readonly options: LogFollowerOptions,
    private readonly logger?: Logger,
  ) {
    this.batchSize = options.batchSize ?? 500;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get current(): LogPosition {
    return this.position;
  }

  /** Starts from the current end of the log: history is read by offset or version, not replayed here. */
  async start(): Promise<void> {
    this.position = await this.log.head();
    this.stopHints = this.hints.subscribe(() => {
      this.hintUnanswered = true;
      this.wake();
      this.settleLater(0);
    });
    if (this.options.pollMs > 0) this.schedule();
  }

  /**
   * Reads the log soon; hints call it. Reads never overlap: one arriving mid-read runs once
   * more after it. The read starts a microtask later, so hints that arrive together (the
   * messages of one Redis packet, the appends of one commit batch) are taken by one read
   * rather than a read and then an empty one.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = Promise.resolve()
      .then(() => this.readUntilIdle())
      .catch((error) => {
        this.options.observer?.failed?.(error);
        this.logger?.warn({ err: error }, 'log follower: reading the log failed; retrying on the next hint or tick');
      })
      .finally(() => (this.reading = undefined));
  }

  /** Resolves once everything committed before the call has been handed to the listeners. */
  async catchUp(): Promise<void> {
    await this.reading;
    this.wake();
    await this.reading;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.settleTimer);
    this.stopHints?.();
    await this.reading;
    this.listeners.clear();
  }

  /** At most one settling read pending: under a steady stream of hints, one per `settleMs`. */
  private settleLater(tries: number): void {
    if (!this.options.settleMs || this.settleTimer || this.stopped || tries >= SETTLE_TRIES) return;
    this.settleTimer = setTimeout(
      async () => {
        this.wake();
        await this.reading;
        this.settleTimer = undefined;
        if (this.hintUnanswered) this.settleLater(tries + 1);
      },
      this.options.settleMs * 2 ** tries,
    );
    this.settleTimer.unref();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.wake();
      this.schedule();
    }, this.options.pollMs);
    this.timer.unref();
  }

  private async readUntilIdle(): Promise<void> {
    do {
      this.readAgain = false;
      for (;;) {
        const observer = this.options.observer;
        const position = this.position;
        const events = observer?.reading
          ? await observer.reading(() => this.log.after(position, this.batchSize))
          : await this.log.after(position, this.batchSize);
        observer?.read?.(events);
        for (const event of events) this.deliver(event);
        if (events.length < this.batchSize || this.stopped) break;
      }
    } while (this.readAgain && !this.stopped);
  }

  private deliver(event: OrderEvent): void {
    if (this.stopped || !isAfter(event, this.position)) return;
    this.position = { txId: event.txId, seq: event.seq };
    this.hintUnanswered = false;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger?.error({ err: error }, 'log follower: a listener failed');
      }
    }
  }
}
