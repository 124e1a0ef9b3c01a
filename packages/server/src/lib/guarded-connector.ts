import net from 'node:net';
import { buildConnector } from 'undici';
import { AddressNotAllowedError, guardedLookup, refusalReason } from './ssrf-guard.js';

/**
 * An undici connector that enforces the guard on literal IP hosts (which skip
 * DNS), on every resolved name, and once more on the socket's remote address.
 */
export function guardedConnector(options: { allowPrivate: boolean; connectTimeout: number }): buildConnector.connector {
  const connect = buildConnector({ timeout: options.connectTimeout, lookup: guardedLookup(options.allowPrivate) } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host)) {
      const reason = refusalReason(host, options.allowPrivate);
      if (reason !== undefined) return callback(new AddressNotAllowedError(host, reason), null);
    }
    return connect(opts, (error, socket) => {
      if (error || !socket) return callback(error, null);
      const remote = socket.remoteAddress;
      const reason = remote === undefined ? 'unknown' : refusalReason(remote, options.allowPrivate);
      if (reason !== undefined) {
        socket.destroy();
        return callback(new AddressNotAllowedError(remote ?? '(unknown)', reason, host), null);
      }
      return callback(null, socket);
    });
  };
}
