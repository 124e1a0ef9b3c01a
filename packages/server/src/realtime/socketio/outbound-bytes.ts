import type { Socket } from 'socket.io';

interface QueuedPacket {
  data?: unknown;
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * How many bytes wait to reach one Socket.IO client: packets engine.io holds
 * while the transport is busy (or, on long-polling, until the client polls), plus
 * what the WebSocket has queued on the TCP socket. A client that stops reading
 * makes both grow. The engine's queue is only ever appended to or replaced, so it
 * is summed incrementally: checking before every write costs O(1) on average.
 */
export class OutboundBytes {
  private seen: QueuedPacket[] | undefined;
  private counted = 0;
  private bytes = 0;

  constructor(private readonly socket: Socket) {}

  get(): number {
    const conn = this.socket.conn as unknown as { writeBuffer?: QueuedPacket[]; transport?: { socket?: { bufferedAmount?: unknown } } };
    const queue = conn.writeBuffer ?? [];
    if (queue !== this.seen || queue.length < this.counted) {
      this.seen = queue;
      this.counted = 0;
      this.bytes = 0;
    }
    for (; this.counted < queue.length; this.counted++) this.bytes += sizeOf(queue[this.counted]?.data);
    const ws = conn.transport?.socket?.bufferedAmount;
    return this.bytes + (typeof ws === 'number' ? ws : 0);
  }
}

/** Closes a socket's transport at once, dropping what is queued for it. */
export function closeTransport(socket: Socket): void {
  const conn = socket.conn as unknown as { close(discard?: boolean): void; transport?: { socket?: { terminate?: () => void } } };
  const ws = conn.transport?.socket;
  conn.close(true);
  // A WebSocket's close handshake would wait for the peer that does not read: drop it now, and its buffers with it.
  ws?.terminate?.();
}
