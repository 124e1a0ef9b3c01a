import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';

/** What the route hands over once the request is accepted: the raw response, and how to start the body (http/routes/streams.ts). */
export interface StreamReply {
  response: ServerResponse;
  /** Sends the 200 with this body (Fastify pipes it, so the usual hooks still add their headers). */
  open(body: NodeJS.ReadableStream): void;
}

/** Something to undo when a stream ends: a hub subscription, a delivery, a quota slot. */
export type Cleanup = () => void;

export function runAll(cleanups: Cleanup[]): void {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
}

/** The open streams of one route: on shutdown each ends cleanly, so its client reconnects (with Last-Event-ID) to another node or the restarted one. */
export class SseWriters {
  private readonly open = new Set<SseWriter>();

  constructor(
    private readonly shutdownSignal: AbortSignal,
    /** How long a stream's last bytes may wait for a client that does not read before it is cut off. */
    private readonly graceMs: number,
  ) {
    shutdownSignal.addEventListener('abort', () => this.endAll(), { once: true });
  }

  get size(): number {
    return this.open.size;
  }

  endAll(): void {
    for (const writer of [...this.open]) writer.end(this.graceMs);
  }

  /** Starts a stream's body; from then on, its end undoes everything in `cleanups`. */
  start(reply: StreamReply, options: SseWriterOptions, cleanups: Cleanup[], setUp: (writer: SseWriter) => void): SseWriter {
    const writer = new SseWriter(reply.response, options);
    setUp(writer);
    this.open.add(writer);
    cleanups.push(() => this.open.delete(writer));
    writer.onClose(() => runAll(cleanups));
    reply.open(writer.body);
    if (this.shutdownSignal.aborted) writer.end(this.graceMs);
    return writer;
  }
}

export interface SseWriterOptions {
  /** A comment line goes out when nothing else did for this long, so proxies keep the connection. */
  heartbeatMs: number;
  /** Bytes that may wait for a client that does not read before the connection is cut. */
  maxBufferedBytes: number;
  /** Called when the stream is cut for not reading (for a log line). */
  onOverflow?: () => void;
}

/**
 * The `text/event-stream` side of one SSE response: messages, heartbeats, and a bound on
 * what may wait for a client that stops reading. The body is a PassThrough that Fastify
 * pipes to the socket, so the response still goes through the usual hooks (CORS,
 * `cache-control`); what waits in it and in the socket is counted against the bound.
 */
export class SseWriter {
  readonly body = new PassThrough();
  private closed = false;
  private wroteSinceBeat = true;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly response: ServerResponse,
    private readonly options: SseWriterOptions,
  ) {
    this.heartbeat = setInterval(() => {
      if (!this.wroteSinceBeat) this.write(': heartbeat\n\n');
      this.wroteSinceBeat = false;
    }, options.heartbeatMs);
    this.heartbeat.unref();
    response.once('close', () => this.finish());
    this.body.once('close', () => this.finish());
    // An opening comment sends the headers now, so EventSource's `open` fires before the first event.
    this.write(': ordercast stream\n\n');
  }

  /**
   * One message: `id:`, `event:` and one `data:` line of JSON (JSON.stringify never writes a
   * newline). Without an id the client keeps the last one it had, for its reconnect.
   */
  send(id: string | number | undefined, event: string, data: unknown): void {
    this.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /**
   * Ends the stream cleanly once what is queued has been sent. With `graceMs`, a client
   * that has not taken it all by then is cut off (shutdown must not wait on a peer that does not read).
   */
  end(graceMs?: number): void {
    if (this.closed) return;
    this.body.end();
    this.finish();
    if (graceMs === undefined || this.response.writableFinished) return;
    const cutOff = setTimeout(() => this.response.destroy(), graceMs);
    cutOff.unref();
    this.response.once('close', () => clearTimeout(cutOff));
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Bytes written but not yet taken by the client. */
  get bufferedBytes(): number {
    return this.body.writableLength + this.body.readableLength + this.response.writableLength;
  }

  private write(chunk: string): void {
    if (this.closed) return;
    if (this.bufferedBytes + chunk.length > this.options.maxBufferedBytes) {
      this.options.onOverflow?.();
      // A client that does not read would hold this memory for ever: drop it and its connection.
      this.finish();
      this.body.destroy();
      this.response.destroy();
      return;
    }
    this.wroteSinceBeat = true;
    this.body.write(chunk);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
