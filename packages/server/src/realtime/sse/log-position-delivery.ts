import { isAfter, type LogPosition, type OrderEvent } from '../../domain/order.js';

export interface LogPositionDeliveryOptions {
  /** The project's events after a position, oldest first (in commit order), each with its cursor. */
  readAfter(position: LogPosition): Promise<Array<{ event: OrderEvent; cursor: string }>>;
  deliver(event: OrderEvent, cursor: string): void;
  onError?(error: unknown): void;
}

/**
 * A project's events for one stream, in commit order, each once. Positions in the log
 * are not contiguous, so a gap cannot be seen from an event alone: a live event is only
 * a reason to read the log after the stream's position, which delivers it and anything
 * it overtook. Events offered before `start` wait for it.
 */
export class LogPositionDelivery {
  private position: LogPosition = { txId: 0, seq: 0 };
  private chain: Promise<void>;
  private begin!: () => void;
  private closed = false;

  constructor(private readonly options: LogPositionDeliveryOptions) {
    this.chain = new Promise<void>((resolve) => (this.begin = resolve));
  }

  /** Goes live from `position`, first delivering what the log holds after it. */
  start(position: LogPosition): void {
    this.position = position;
    this.enqueue(() => this.fill());
    this.begin();
  }

  offer(event: OrderEvent): void {
    this.enqueue(() => (isAfter(event, this.position) ? this.fill() : undefined));
  }

  idle(): Promise<void> {
    return this.chain;
  }

  close(): void {
    this.closed = true;
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.chain = this.chain.then(() => (this.closed ? undefined : step())).catch((error) => this.options.onError?.(error));
  }

  private async fill(): Promise<void> {
    while (!this.closed) {
      const page = await this.options.readAfter(this.position);
      for (const { event, cursor } of page) {
        if (this.closed) return;
        if (!isAfter(event, this.position)) continue;
        this.position = { txId: event.txId, seq: event.seq };
        this.options.deliver(event, cursor);
      }
      if (page.length < FILL_PAGE) return;
    }
  }
}

/** Events per read of the log; a full page means there may be more. */
export const FILL_PAGE = 200;
