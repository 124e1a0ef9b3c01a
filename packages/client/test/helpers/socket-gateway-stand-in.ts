import { Server } from 'socket.io';
import { orderUpdateOf } from '../../../server/src/realtime/socketio/order-update.js';
import { startFaultyProxy, type FaultyProxy } from './faulty-proxy.js';
import type { Ordercast } from './ordercast.js';

export interface SocketGatewayStandIn {
  /** REST is forwarded to the real server; `/ws` is this gateway. */
  baseUrl: string;
  proxy: FaultyProxy;
  /** Keep connections open but never acknowledge subscriptions: a gateway that went silent. */
  setMute(mute: boolean): void;
  close(): Promise<void>;
}

/**
 * A real Socket.IO server speaking the `/ws` protocol of issue 4 (subscribe:order acked with
 * `{order}` or `{error}`, then order:update), fed by the real server's log follower.
 * It plays a gateway that misbehaves in ways the real one does not: `echo` re-sends every
 * update twice plus a stale copy, as a reconnecting gateway might, to prove the client's
 * deduplication; `setMute` keeps connections open but never acknowledges.
 */
export async function startSocketGatewayStandIn(ordercast: Ordercast, options: { echo?: boolean } = {}): Promise<SocketGatewayStandIn> {
  const proxy = await startFaultyProxy(ordercast.baseUrl, () => 'forward');
  let mute = false;
  const io = new Server(proxy.server);
  const gateway = io.of('/ws');
  gateway.use((socket, next) => {
    if (socket.handshake.auth?.apiKey === ordercast.secretKey) return next();
    next(Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized', message: 'Unknown API key' } }));
  });
  gateway.on('connection', (socket) => {
    socket.on('subscribe:order', async (request: { orderId: string }, ack: (payload: unknown) => void) => {
      if (mute) return;
      // Join before reading, so no change can fall between the snapshot and the live stream.
      await socket.join(request.orderId);
      const current = await ordercast.server.request('GET', `/api/v2/orders/${encodeURIComponent(request.orderId)}`, { key: ordercast.secretKey });
      if (current.status !== 200) {
        socket.leave(request.orderId);
        return ack({ error: current.body.error });
      }
      ack({ order: current.body });
    });
    socket.on('unsubscribe:order', (request: { orderId: string }) => socket.leave(request.orderId));
  });
  let previous: unknown;
  const unsubscribe = ordercast.server.app.follower.subscribe((event) => {
    const update = orderUpdateOf(event);
    const room = gateway.to(event.orderId);
    room.emit('order:update', update);
    if (options.echo) {
      room.emit('order:update', update);
      if (previous) room.emit('order:update', previous);
    }
    previous = update;
  });
  return {
    baseUrl: proxy.baseUrl,
    proxy,
    setMute(value) {
      mute = value;
    },
    async close() {
      unsubscribe();
      await io.close();
      await proxy.close();
    },
  };
}
