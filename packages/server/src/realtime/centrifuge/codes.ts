/**
 * Centrifuge protocol codes, as centrifuge-js 5.x reacts to them
 * (see docs/realtime.md and the Go library's errors.go / disconnect.go).
 */
export const ErrorCodes = {
  internal: 100,
  unauthorized: 101,
  unknownChannel: 102,
  permissionDenied: 103,
  methodNotFound: 104,
  alreadySubscribed: 105,
  limitExceeded: 106,
  badRequest: 107,
  notAvailable: 108,
  /** The connection token expired: centrifuge-js gets a new one from `getToken` and connects again. */
  tokenExpired: 109,
  expired: 110,
  tooManyRequests: 111,
  unrecoverablePosition: 112,
} as const;

export interface ProtocolError {
  code: number;
  message: string;
  temporary?: boolean;
}

/**
 * Close codes. 3000–3499 make the client reconnect; 3500–3999 are final, and
 * only when the reason is non-empty (and not JSON, which the client would parse).
 */
export const DisconnectCodes = {
  shutdown: 3001,
  /** The connection's credential lapsed: the client reconnects, and a client with `getToken` gets a new token on the way. */
  expired: 3005,
  slow: 3008,
  noPong: 3012,
  tooManyRequests: 3013,
  invalidToken: 3500,
  badRequest: 3501,
  stale: 3502,
  permissionDenied: 3507,
} as const;

/** Close reasons are plain text under the 123-byte limit of a close frame. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 120
    ? text
    : bytes
        .subarray(0, 117)
        .toString()
        .replace(/\uFFFD+$/, '') + '...';
}
