import { hash } from 'node:crypto';

// `hash()` is one call into OpenSSL; `createHash().update().digest()` builds a Hash
// object each time, several times slower, and these run on every request.

/** Hex SHA-256 of UTF-8 text: how API keys are stored and idempotent requests compared. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Base64url SHA-256 of UTF-8 text: short stand-ins for keys and names. */
export function sha256Base64url(text: string): string {
  return hash('sha256', text, 'base64url');
}
