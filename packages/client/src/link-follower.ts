import { fullJitterDelay } from './backoff.js';
import { looksLikePublicOrder, type PublicOrderView } from './public-order.js';
import { SseStreamParser } from './sse-stream-parser.js';

const UPDATE_EVENT = 'order.update';
const LAPSED_EVENT = 'lapsed';
/** The stream sends heartbeats; this long without a byte means it is dead and is reopened. */
const IDLE_TIMEOUT_MS = 45_000;

export interface FollowOrderLinkOptions {
  /** Where Ordercast runs, e.g. `https://orders.example.com`. */
  baseUrl: string;
  /** The `olt_…` token of an order link (the part after `/o/`). */
  linkToken: string;
  /** The locale of labels and descriptions (`?lang=`); the server falls back to English. */
  lang?: string;
  /** Each newer version of the order, once, in order. */
  onView: (view: PublicOrderView) => void;
  /** Which way updates arrive now. */
  onTransport?: (transport: 'sse' | 'poll' | 'none') => void;
  /** The link no longer works (`order_link_expired`, `order_link_revoked`, `not_found`); following has stopped. */
  onEnd?: (code: string) => void;
  /** The stream must start within this time, or status.json is polled meanwhile. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** How often status.json is read while the stream is down. Default 5000 ms. */
  pollIntervalMs?: number;
  fetch?: typeof fetch;
}

/**
 * Follows one order through its link: the current state from `status.json` at once, then
 * live over Server-Sent Events, with `status.json` polled while the stream is down. Stops at
 * a final status, when the link lapses, or on `stop()`.
 */
export function followOrderLink(options: FollowOrderLinkOptions): { stop: () => void } {
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  const stopped = new AbortController();
  let version: number | undefined;
  let transport: 'sse' | 'poll' | 'none' = 'none';
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let streamTimer: ReturnType<typeof setTimeout> | undefined;
  let streamUp = false;
  let attempts = 0;

  const url = (path: string) => {
    const target = new URL(`o/${encodeURIComponent(options.linkToken)}/${path}`, base);
    if (options.lang) target.searchParams.set('lang', options.lang);
    return target;
  };

  function show(next: typeof transport): void {
    if (next === transport || stopped.signal.aborted) return;
    transport = next;
    options.onTransport?.(next);
  }

  function stop(): void {
    if (stopped.signal.aborted) return;
    show('none');
    stopped.abort();
    clearTimeout(pollTimer);
    clearTimeout(streamTimer);
  }

  function end(code: string): void {
    if (stopped.signal.aborted) return;
    stop();
    options.onEnd?.(code);
  }

  function accept(view: unknown): void {
    if (stopped.signal.aborted || !looksLikePublicOrder(view)) return;
    if (version !== undefined && view.order.version <= version) return;
    version = view.order.version;
    options.onView(view);
    if (view.status.final) stop();
  }

  /** 410 and 404 are the link's own answers (expired, revoked, unknown): nothing will change them. */
  async function lapsedCode(response: Response): Promise<string | undefined> {
    if (response.status !== 410 && response.status !== 404) return undefined;
    const body = (await response.json().catch(() => null)) as { error?: { code?: unknown } } | null;
    return typeof body?.error?.code === 'string' ? body.error.code : response.status === 410 ? 'order_link_expired' : 'not_found';
  }

  async function readStatus(): Promise<void> {
    try {
      const response = await doFetch(url('status.json'), { signal: stopped.signal, cache: 'no-store', headers: { accept: 'application/json' } });
      const code = await lapsedCode(response);
      if (code) return end(code);
      if (response.ok) accept(await response.json());
    } catch {
      // Offline for a moment: the next poll or the stream catches up.
    }
  }

  function poll(): void {
    clearTimeout(pollTimer);
    if (stopped.signal.aborted || streamUp) return;
    show('poll');
    void readStatus().finally(() => {
      if (!streamUp && !stopped.signal.aborted) pollTimer = setTimeout(poll, pollIntervalMs);
    });
  }

  async function stream(): Promise<void> {
    if (stopped.signal.aborted) return;
    const attempt = new AbortController();
    const signal = AbortSignal.any([stopped.signal, attempt.signal]);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (version !== undefined) headers['last-event-id'] = String(version);
    let idle = setTimeout(() => attempt.abort(), connectTimeoutMs);
    // Whatever the stream does, the page is covered by polls until it brings its first byte.
    clearTimeout(streamTimer);
    streamTimer = setTimeout(() => !streamUp && poll(), connectTimeoutMs);
    try {
      const response = await doFetch(url('events'), { headers, signal, cache: 'no-store' });
      const code = await lapsedCode(response);
      if (code) return end(code);
      if (!response.ok || !response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(`HTTP ${response.status}`);
      const parser = new SseStreamParser((message) => {
        if (message.event === UPDATE_EVENT) {
          try {
            accept(JSON.parse(message.data));
          } catch {
            // A garbled message is skipped; the next one or a poll carries the state.
          }
        } else if (message.event === LAPSED_EVENT) {
          // status.json says why (expired or revoked) and ends following.
          void readStatus();
        }
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || stopped.signal.aborted) break;
        clearTimeout(idle);
        idle = setTimeout(() => attempt.abort(), IDLE_TIMEOUT_MS);
        if (!streamUp) {
          streamUp = true;
          attempts = 0;
          clearTimeout(pollTimer);
          clearTimeout(streamTimer);
          show('sse');
        }
        parser.push(value);
      }
    } catch {
      // Refused, cut or silent: polls cover while it is tried again.
    } finally {
      clearTimeout(idle);
    }
    if (stopped.signal.aborted) return;
    streamUp = false;
    poll();
    const delay = 1000 + fullJitterDelay(attempts++, { baseMs: 1000, capMs: 30_000 });
    setTimeout(() => void stream(), delay);
  }

  void readStatus();
  void stream();
  return { stop };
}
