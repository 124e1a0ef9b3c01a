import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A webhook receiver that misbehaves at the TCP level, as real outages do. */
export interface BadEndpoint {
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open right now. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * A raw TCP server on 127.0.0.1 with its own idea of HTTP:
 * - `silent`: accepts and never reads nor writes (a stuck process, a full backlog);
 * - `reset`: accepts and resets the connection at once.
 */
export async function startBadEndpoint(kind: 'silent' | 'reset'): Promise<BadEndpoint> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (kind === 'reset') socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
