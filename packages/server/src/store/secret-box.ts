import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encrypts the secrets Ordercast must be able to read back (user-token signing
 * secrets, webhook signing secrets) with AES-256-GCM before they are stored.
 *
 * A sealed value is text, so it fits the existing columns:
 * `enc:v1:<key id>:<base64url of 12-byte IV | 16-byte tag | ciphertext>`.
 * The key id (the first 8 hex digits of the key's SHA-256) says which key sealed
 * it, so values sealed with a previous key are opened with that key and re-sealed
 * with the current one. A value without the prefix is a secret stored before
 * encryption (or while no key was configured): it opens as itself.
 */
export const SEALED_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export class SecretBoxError extends Error {}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string | undefined;

  /**
   * `current` seals; it and every `previous` key open. Without a current key the
   * box stores secrets as they are (PostgreSQL without ORDERCAST_ENCRYPTION_KEY: the
   * server warns at every start).
   */
  constructor(current: Buffer | undefined, previous: Buffer[] = []) {
    for (const key of [...(current ? [current] : []), ...previous]) {
      if (key.length !== KEY_BYTES) throw new SecretBoxError(`an encryption key must be ${KEY_BYTES} bytes (got ${key.length})`);
      this.keys.set(keyId(key), key);
    }
    this.currentId = current ? keyId(current) : undefined;
  }

  /** Whether new secrets are stored encrypted. */
  get encrypting(): boolean {
    return this.currentId !== undefined;
  }

  /** The id of the key that seals, for logs. */
  get currentKeyId(): string | undefined {
    return this.currentId;
  }

  seal(plain: string): string {
    if (!this.currentId) return plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${this.currentId}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
  }

  open(stored: string): string {
    if (!isSealed(stored)) return stored;
    const rest = stored.slice(SEALED_PREFIX.length);
    const colon = rest.indexOf(':');
    const id = rest.slice(0, colon);
    const key = this.keys.get(id);
    if (colon < 0 || !key) {
      throw new SecretBoxError(
        `a stored secret was encrypted with key ${id || '(unknown)'}, which is neither ORDERCAST_ENCRYPTION_KEY nor ORDERCAST_ENCRYPTION_KEY_PREVIOUS` +
          (this.currentId ? ` (the current key is ${this.currentId})` : ' (no ORDERCAST_ENCRYPTION_KEY is set)'),
      );
    }
    const bytes = Buffer.from(rest.slice(colon + 1), 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('a stored secret is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`a stored secret sealed with key ${id} does not decrypt: it was altered or truncated`);
    }
  }

  /** Whether a stored value should be written again: in plain text, or sealed with a previous key. */
  needsReseal(stored: string): boolean {
    if (!this.currentId) return false;
    return !stored.startsWith(`${SEALED_PREFIX}${this.currentId}:`);
  }

  reseal(stored: string): string {
    return this.seal(this.open(stored));
  }
}
