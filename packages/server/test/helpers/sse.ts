import http from 'node:http';
import { EventSource } from 'eventsource';
import { Agent, fetch as undiciFetch } from 'undici';

export interface SseMessage {
  id: string;
  event: string;
  data: any;
}

/** A real `eventsource` client that records every message and error, as a user's code would see them. */
export class RecordingEventSource {
  readonly source: EventSource;
  readonly messages: SseMessage[] = [];
  readonly errors: Array<{ code?: number; message?: string }> = [];
  opened = 0;
  /** Connections of its own, closed with it: an aborted stream must leave nothing behind in a shared pool. */
  private readonly agent = new Agent();

  constructor(url: string, options: { bearer?: string; lastEventId?: string; events?: string[] } = {}) {
    const { bearer, lastEventId } = options;
    this.source = new EventSource(url, {
      fetch: (input, init) => {
        const headers: Record<string, string> = { ...(init?.headers as Record<string, string>) };
        if (bearer) headers.authorization = `Bearer ${bearer}`;
        // Only the first request: on reconnects EventSource sends its own Last-Event-ID.
        if (lastEventId !== undefined && this.opened === 0 && !headers['Last-Event-ID']) headers['Last-Event-ID'] = lastEventId;
        return undiciFetch(input as string, { ...(init as object), headers, dispatcher: this.agent }) as unknown as Promise<Response>;
      },
    });
    this.source.addEventListener('open', () => this.opened++);
    this.source.addEventListener('error', (event) => this.errors.push({ code: (event as any).code, message: (event as any).message }));
    for (const name of options.events ?? ['order.update', 'auth.error']) {
      this.source.addEventListener(name, (event) => {
        const message = event as MessageEvent;
        this.messages.push({ id: message.lastEventId, event: name, data: JSON.parse(message.data) });
      });
    }
  }

  get versions(): number[] {
    return this.messages.filter((m) => m.event === 'order.update').map((m) => m.data.version);
  }

  get ids(): string[] {
    return this.messages.filter((m) => m.event === 'order.update').map((m) => m.id);
  }

  get closed(): boolean {
    return this.source.readyState === this.source.CLOSED;
  }

  close(): void {
    this.source.close();
    void this.agent.destroy();
  }
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body of a refusal; undefined for a stream (which is closed at once). */
  body: any;
}

/** One request on a connection of its own: a refusal is read whole, a stream is closed as soon as it opens. */
export function rawStream(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      if (response.headers['content-type']?.startsWith('text/event-stream')) {
        request.destroy();
        return resolve({ status: response.statusCode!, headers: response.headers, body: undefined });
      }
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: text ? JSON.parse(text) : undefined }));
    });
    request.on('error', reject);
  });
}

/** A stream held open on a connection of its own until `close`. */
export function holdStream(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; close(): void }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      const close = () => request.destroy();
      if (response.statusCode === 200) return resolve({ status: 200, body: undefined, close });
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: text ? JSON.parse(text) : undefined, close }));
    });
    request.on('error', reject);
  });
}
