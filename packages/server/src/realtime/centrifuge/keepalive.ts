/** What a keepalive needs of its connection. */
export interface Pinged {
  /** Sends a ping (`{}`); false when the connection is no longer connected, which stops the pings. */
  ping(): boolean;
  /** No pong came in time. */
  timedOut(): void;
}

/**
 * The protocol's pings: `{}` every interval, to be answered with `{}` within the pong
 * timeout. The first ping goes out somewhere in the second half of the interval, so
 * the pings of many clients that connected together spread out.
 */
export class Keepalive {
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;

  constructor(
    private readonly connection: Pinged,
    private readonly intervalMs: number,
    private readonly pongTimeoutMs: number,
  ) {
    this.schedule(intervalMs / 2 + Math.random() * (intervalMs / 2));
  }

  /** A pong arrived: false when no ping was waiting for one (a protocol error). */
  pong(): boolean {
    if (!this.awaitingPong) return false;
    this.awaitingPong = false;
    clearTimeout(this.pongTimer);
    return true;
  }

  stop(): void {
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  private schedule(delay: number): void {
    this.pingTimer = setTimeout(() => {
      if (!this.connection.ping()) return;
      this.awaitingPong = true;
      this.pongTimer = setTimeout(() => this.connection.timedOut(), this.pongTimeoutMs);
      this.schedule(this.intervalMs);
    }, delay);
  }
}
