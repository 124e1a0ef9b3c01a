import type { OrdercastError } from '../../domain/errors.js';

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

/**
 * How a refused connect is answered. A refused token closes with a final code and a
 * reason the user can read, so the client stops retrying. An expired token sent in
 * `token` (a client that can refresh) answers error 109 instead: centrifuge-js then
 * calls getToken and connects again with the new one.
 */
export function connectRefusal(error: OrdercastError, refreshable: boolean): { reply: ProtocolError } | { close: number; reason: string } {
  switch (error.code) {
    case 'token_expired':
      if (refreshable) return { reply: { code: ErrorCodes.tokenExpired, message: `token expired: ${error.message}` } };
      return { close: DisconnectCodes.invalidToken, reason: `token expired: ${error.message}` };
    case 'forbidden':
    case 'permission_denied':
    case 'project_disabled':
      return { close: DisconnectCodes.permissionDenied, reason: `permission denied: ${error.message}` };
    case 'validation_failed':
      return { close: DisconnectCodes.badRequest, reason: `bad request: ${error.message}` };
    case 'quota_exceeded':
      // Temporary: the client backs off and connects again, and gets in once one of the project's connections closes.
      return { reply: { code: ErrorCodes.limitExceeded, message: `quota exceeded: ${error.message}`, temporary: true } };
    default:
      return { close: DisconnectCodes.invalidToken, reason: `invalid token: ${error.message}` };
  }
}

/** How a connection whose credential lapsed is closed: a disabled project is not a credential to refresh, so the client stops. */
export function lapseDisconnect(reason: { code: string; message: string }): [number, string] {
  if (reason.code === 'project_disabled') return [DisconnectCodes.permissionDenied, `permission denied: ${reason.message}`];
  return [DisconnectCodes.expired, `expired: ${reason.message}`];
}

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

/**
 * The bits of a subscribe command's `flag` (the Go library's SubscriptionFlag). centrifuge-js 5.8 always
 * sends channel compaction, which asks for numeric channel ids in pushes: an option a server may leave
 * off, and this one does (replies carry no `id`, pushes the channel's name). Reject-unrecovered is honoured.
 */
export const SubscribeFlags = { channelCompaction: 1, rejectUnrecovered: 2 } as const;

/** The subscribe command's flag bits; undefined when `flag` is not a whole number of 0 or more. */
export function subscribeFlags(params: Record<string, unknown>): number | undefined {
  const flag = params.flag ?? 0;
  return typeof flag === 'number' && Number.isSafeInteger(flag) && flag >= 0 ? flag : undefined;
}
