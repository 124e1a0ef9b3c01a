/** What the keepalive needs of a connection; the two fields are the keepalive's own, kept on the connection. */
export interface Pinged {
  /** Sends a ping (`{}`); false when the connection is no longer connected, which stops the pings. */
  ping(): boolean;
  /** No pong came in time. */
  timedOut(): void;
  /** The tick whose bucket holds it (its next ping, or its pong's deadline); none when not kept alive. */
  keepaliveTick: number | undefined;
  awaitingPong: boolean;
}

/** The keepalive's resolution: pings and pong deadlines fall on ticks this far apart. */
const TICK_MS = 250;

const tickNow = () => Math.floor(performance.now() / TICK_MS);

/**
 * The protocol's pings for every connection of a gateway, from one timer: `{}` every
 * interval, to be answered with `{}` within the pong timeout. Each connection waits in
 * the bucket of the tick of its next ping or pong deadline, so an idle connection keeps
 * a place in one set rather than a timer of its own. The first ping goes out somewhere
 * in the second half of the interval, so the pings of many clients that connected
 * together spread out.
 */
export class Keepalives {
  private readonly buckets = new Map<number, Set<Pinged>>();
  private timer: NodeJS.Timeout | undefined;
  private doneUpTo = tickNow();
  private readonly intervalTicks: number;
  private readonly pongTicks: number;

  constructor(intervalMs: number, pongTimeoutMs: number) {
    this.intervalTicks = Math.max(1, Math.round(intervalMs / TICK_MS));
    this.pongTicks = Math.max(1, Math.round(pongTimeoutMs / TICK_MS));
  }

  start(connection: Pinged): void {
    const half = this.intervalTicks / 2;
    this.place(connection, tickNow() + Math.ceil(half + Math.random() * half));
  }

  /** A pong arrived: false when no ping was waiting for one (a protocol error). */
  pong(connection: Pinged): boolean {
    if (!connection.awaitingPong || connection.keepaliveTick === undefined) return false;
    connection.awaitingPong = false;
    // The next ping is an interval after the last one, which went out `pongTicks` before this deadline.
    this.place(connection, Math.max(tickNow() + 1, connection.keepaliveTick - this.pongTicks + this.intervalTicks));
    return true;
  }

  stop(connection: Pinged): void {
    const tick = connection.keepaliveTick;
    if (tick === undefined) return;
    connection.keepaliveTick = undefined;
    const bucket = this.buckets.get(tick);
    bucket?.delete(connection);
    if (bucket?.size === 0) this.buckets.delete(tick);
    this.stopTimerIfIdle();
  }

  private stopTimerIfIdle(): void {
    if (this.buckets.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private place(connection: Pinged, tick: number): void {
    this.stop(connection);
    connection.keepaliveTick = tick;
    let bucket = this.buckets.get(tick);
    if (!bucket) this.buckets.set(tick, (bucket = new Set()));
    bucket.add(connection);
    if (!this.timer) {
      this.doneUpTo = tickNow();
      this.timer = setInterval(() => this.sweep(), TICK_MS);
      this.timer.unref();
    }
  }

  private sweep(): void {
    const now = tickNow();
    while (this.doneUpTo < now) {
      const bucket = this.buckets.get(++this.doneUpTo);
      if (!bucket) continue;
      this.buckets.delete(this.doneUpTo);
      for (const connection of bucket) {
        connection.keepaliveTick = undefined;
        if (connection.awaitingPong) connection.timedOut();
        else if (connection.ping()) {
          connection.awaitingPong = true;
          this.place(connection, now + this.pongTicks);
        }
      }
    }
    this.stopTimerIfIdle();
  }
}
