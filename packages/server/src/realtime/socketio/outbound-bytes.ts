import type { Socket } from 'socket.io';

interface QueuedPacket {
  data?: unknown;
}

interface EngineConn {
  writeBuffer?: QueuedPacket[];
  transport?: { socket?: { bufferedAmount?: unknown } };
}

/** Up to this many packets waiting in the engine are summed at each check, and nothing is kept between checks. */
const SUMMED_EACH_TIME = 32;

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/** The running sums of long engine queues, by connection (a client that does not read has one; others none). */
const tallies = new WeakMap<object, QueueTally>();

/**
 * How many bytes wait to reach one Socket.IO client: packets engine.io holds
 * while the transport is busy (or, on long-polling, until the client polls), plus
 * what the WebSocket has queued on the TCP socket. A client that stops reading
 * makes both grow. A short queue (the usual case) is summed at each check and
 * nothing of it is kept: holding on to the engine's spent queue would keep its
 * packets alive for as long as the connection idles. A long one is only ever
 * appended to or replaced, so its sum is kept and grown: O(1) on average.
 */
export function outboundBytes(socket: Socket): number {
  const conn = socket.conn as unknown as EngineConn;
  const queue = conn.writeBuffer ?? [];
  const ws = conn.transport?.socket?.bufferedAmount;
  let bytes = typeof ws === 'number' ? ws : 0;
  if (queue.length <= SUMMED_EACH_TIME) {
    for (const packet of queue) bytes += sizeOf(packet?.data);
    return bytes;
  }
  let tally = tallies.get(conn);
  if (!tally) tallies.set(conn, (tally = new QueueTally()));
  return bytes + tally.sum(queue);
}

/** The running sum of one long engine queue. */
class QueueTally {
  private seen: QueuedPacket[] | undefined;
  private counted = 0;
  private bytes = 0;

  sum(queue: QueuedPacket[]): number {
    if (queue !== this.seen || queue.length < this.counted) {
      this.seen = queue;
      this.counted = 0;
      this.bytes = 0;
    }
    for (; this.counted < queue.length; this.counted++) this.bytes += sizeOf(queue[this.counted]?.data);
    return this.bytes;
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
