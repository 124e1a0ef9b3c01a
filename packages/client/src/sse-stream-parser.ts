/** One Server-Sent Events message, as the `text/event-stream` format defines it. */
export interface SseMessage {
  event: string;
  data: string;
  /** The `id:` field of this message, when it had one. */
  id?: string;
}

/**
 * The `text/event-stream` format (WHATWG HTML, "Server-sent events"), fed chunk by chunk:
 * lines end with CRLF, LF or CR; `field: value` lines build a message; a blank line ends it;
 * lines starting with `:` are comments (heartbeats).
 */
export class SseStreamParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private sawCr = false;

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  push(chunk: string): void {
    let text = chunk;
    // A CRLF split across chunks: the LF belongs to the CR already taken as a line end.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = text.endsWith('\r');
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }

  private dispatch(): void {
    const message: SseMessage = { event: this.event || 'message', data: this.data.join('\n') };
    if (this.id !== undefined) message.id = this.id;
    const hadData = this.data.length > 0;
    this.event = '';
    this.data = [];
    this.id = undefined;
    if (hadData) this.onMessage(message);
  }
}
