import type { Credentials } from './types.js';

/**
 * The REST API takes one bearer credential: the secret key, or the user token
 * (a publishable key alone may not read over REST; it only pairs with the token on sockets).
 */
export function restAuthorization(credentials: Credentials): string {
  return `Bearer ${'secretKey' in credentials ? credentials.secretKey : credentials.token}`;
}

/** The Socket.IO gateway's `auth` payload. */
export function socketAuth(credentials: Credentials): { apiKey: string; token?: string } {
  return 'secretKey' in credentials ? { apiKey: credentials.secretKey } : { apiKey: credentials.publishableKey, token: credentials.token };
}
