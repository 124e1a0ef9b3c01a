import { AbortError, AuthError, OrderNotFoundError, TimeoutError, type OrdercastClientError } from './errors.js';
import { OrderTracker, type TransportName } from './order-tracker.js';
import { runPollLoop, type PollTuning } from './poll-loop.js';
import { SocketTransport } from './socket-transport.js';
import { SseTransport, StreamUnusableError } from './sse-transport.js';
import type { Credentials, Order } from './types.js';
import { requestOrder, requestStatusChanges } from './order-request.js';
import { FillingGate, VersionGate } from './version-gate.js';
import { documentVisibility } from './visibility.js';

export interface TrackOrderOptions extends PollTuning {
  /** Where Ordercast runs, e.g. `https://orders.example.com`. */
  baseUrl: string;
  /** `{ secretKey }` server-side only; in a browser `{ publishableKey, token }` with a user JWT from your backend. */
  credentials: Credentials;
  /** Called once per new version, in version order; same as `tracker.on('update')`. */
  onUpdate?: (order: Order) => void;
  signal?: AbortSignal;
  /** Stop with a TimeoutError if the order is not final by then. Default: no limit. */
  maxWaitMs?: number;
  /**
   * `auto` (default): the Socket.IO WebSocket; while it is unavailable, Server-Sent Events;
   * while those are unavailable too, REST long-polling (docs/client.md, "Transports"); and
   * meanwhile the current state from one REST read, so the first update never waits on them.
   * Or one of them only: `socket`, `sse`, `poll`.
   */
  transport?: 'auto' | 'socket' | 'sse' | 'poll';
  /**
   * How long the socket may take to subscribe, and the SSE stream to start, before `auto`
   * moves on to the next transport. Default 5000 ms.
   */
  socketConnectTimeoutMs?: number;
}

/**
 * Follows one order until its status is final, over the Socket.IO gateway, with Server-Sent
 * Events and then REST polling as fallbacks (or over one of them only), showing the current
 * state from one REST read while the live transport connects. Every version reaches
 * the caller once, in order, whichever transport brought it: each transport resumes from the
 * version the gate holds, and the gate drops repeats and fills gaps.
 */
export function trackOrder(orderId: string, options: TrackOrderOptions): OrderTracker {
  const mode = options.transport ?? 'auto';
  const connectTimeoutMs = options.socketConnectTimeoutMs ?? 5000;
  const visibility = options.visibility ?? documentVisibility();
  const gate = new FillingGate(new VersionGate(), (after, before) =>
    requestStatusChanges({ baseUrl: options.baseUrl, credentials: options.credentials, orderId, fetch: options.fetch }, after, before),
  );
  let polling: AbortController | undefined;
  let socket: SocketTransport | undefined;
  let socketUp = false;
  let sse: SseTransport | undefined;
  let sseUp = false;
  let sseTimer: ReturnType<typeof setTimeout> | undefined;
  /** SSE cannot work here (a buffering proxy, no stream route): `auto` does not try it again, and polls. */
  let sseUnusable = false;
  let ended = false;
  let fallbackTimer: ReturnType<typeof setTimeout> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let lastError: unknown;
  const cleanups: Array<() => void> = [];
  const firstRead = new AbortController();
  cleanups.push(() => firstRead.abort());

  const { tracker, control } = OrderTracker.create(orderId, () => end({ error: new AbortError('Tracking was stopped') }));

  function end(outcome: { order: Order } | { error: Error }): void {
    if (ended) return;
    ended = true;
    clearTimeout(fallbackTimer);
    clearTimeout(deadline);
    stopPolling();
    stopSse();
    socket?.close();
    for (const cleanup of cleanups) cleanup();
    control.settle(outcome);
  }

  function accept(arrival: Order): void {
    if (ended || arrival.id !== orderId) return;
    gate.admit(arrival, (order) => {
      if (ended) return;
      control.deliver(order);
      try {
        options.onUpdate?.(order);
      } catch (error) {
        return end({ error: error as Error });
      }
      if (order.final) end({ order });
    });
  }

  function show(transport: TransportName): void {
    control.setTransport(transport);
  }

  function startPolling(): void {
    if (ended || polling) return;
    const controller = new AbortController();
    polling = controller;
    show('poll');
    runPollLoop({
      ...options,
      visibility,
      orderId,
      signal: controller.signal,
      knownVersion: () => gate.version,
      onOrder: accept,
      onRetry: (error, attempt, delayMs) => {
        lastError = error;
        options.onRetry?.(error, attempt, delayMs);
      },
    }).catch((error: Error) => end({ error }));
  }

  function stopPolling(): void {
    polling?.abort();
    polling = undefined;
  }

  /** `auto`: the socket is not delivering, so SSE takes over; polling covers while SSE cannot (socket → SSE → poll). */
  function fallBack(): void {
    if (ended || socketUp) return;
    if (!sse && !sseUnusable) startSse();
    // A stream still starting has its own deadline (sseTimer), and one that went down polls already.
    else if (!sse) startPolling();
  }

  function startSse(): void {
    if (ended || sse) return;
    sseUp = false;
    sse = new SseTransport({
      baseUrl: options.baseUrl,
      credentials: options.credentials,
      orderId,
      knownVersion: () => gate.version,
      connectTimeoutMs,
      fetch: options.fetch,
      onOrder: accept,
      onUp: () => {
        sseUp = true;
        clearTimeout(sseTimer);
        // The stream starts at the current state (or after the version we hold, from the log): no gap.
        stopPolling();
        if (!socketUp) show('sse');
      },
      onDown: (reason) => {
        lastError = reason;
        const wasUp = sseUp;
        sseUp = false;
        if (mode === 'auto') {
          if (reason instanceof StreamUnusableError) {
            sseUnusable = true;
            stopSse();
          }
          if (!socketUp) startPolling();
        } else if (wasUp) show('none');
      },
      onFatal: (error: OrdercastClientError) => end({ error }),
      giveUpWhenUnusable: mode === 'auto',
    });
    sse.start();
    if (mode === 'auto') sseTimer = setTimeout(() => !sseUp && startPolling(), connectTimeoutMs);
  }

  function stopSse(): void {
    clearTimeout(sseTimer);
    sse?.close();
    sse = undefined;
    sseUp = false;
  }

  /**
   * The order's current state from one REST read, at once: a live transport can take seconds
   * to connect (a proxy that swallows WebSockets, a stream that never starts), and the page
   * would show nothing until then. The gate drops it if a transport was quicker.
   */
  function readCurrentState(): void {
    requestOrder({ baseUrl: options.baseUrl, credentials: options.credentials, orderId, signal: firstRead.signal, fetch: options.fetch }).then(
      (response) => {
        if (response.kind === 'order') accept(response.order);
      },
      (error: unknown) => {
        // A refusal is final whichever channel says it; anything else is for the transports to outlast.
        if (error instanceof OrderNotFoundError || error instanceof AuthError) end({ error });
        else if (!(error instanceof AbortError)) lastError = error;
      },
    );
  }

  function startSocket(): void {
    socket = new SocketTransport({
      baseUrl: options.baseUrl,
      credentials: options.credentials,
      orderId,
      knownVersion: () => gate.version,
      ackTimeoutMs: connectTimeoutMs,
      connectTimeoutMs,
      onOrder: accept,
      onUp: () => {
        socketUp = true;
        clearTimeout(fallbackTimer);
        // The subscribe ack carried the current order, so the fallbacks can stop without a gap.
        stopSse();
        stopPolling();
        show('socket');
      },
      onDown: (reason) => {
        lastError = reason;
        const wasUp = socketUp;
        socketUp = false;
        if (mode === 'auto') {
          clearTimeout(fallbackTimer);
          fallBack();
        } else if (wasUp) show('none');
      },
      onFatal: (error: OrdercastClientError) => end({ error }),
      websocketOnly: mode === 'auto',
    });
    socket.start();
  }

  if (options.signal?.aborted) {
    end({ error: new AbortError('trackOrder was aborted', { cause: options.signal.reason }) });
    return tracker;
  }
  const onAbort = () => end({ error: new AbortError('trackOrder was aborted', { cause: options.signal?.reason }) });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  cleanups.push(() => options.signal?.removeEventListener('abort', onAbort));
  if (options.maxWaitMs !== undefined) {
    deadline = setTimeout(
      () => end({ error: new TimeoutError(`Order ${orderId} was not final after ${options.maxWaitMs} ms`, { cause: lastError }) }),
      options.maxWaitMs,
    );
  }
  if (visibility) {
    // Back in the foreground: the poll loop wakes by itself; a sleeping socket is nudged.
    cleanups.push(visibility.onVisible(() => socket?.reconnectNow()));
  }

  // Start on the next microtask, so listeners attached right after trackOrder() returns hear the first 'transport' event.
  queueMicrotask(() => {
    if (ended) return;
    if (mode === 'poll') return startPolling();
    if (mode === 'sse') return startSse();
    // One transport only means one: `socket` and `sse` start with the current state by themselves.
    if (mode === 'auto') readCurrentState();
    startSocket();
    if (mode === 'auto') fallbackTimer = setTimeout(fallBack, connectTimeoutMs);
  });
  return tracker;
}
