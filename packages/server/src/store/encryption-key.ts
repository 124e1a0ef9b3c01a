import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEY_BYTES, SecretBox } from './secret-box.js';

/** The key file an SQLite deployment gets when ORDERCAST_ENCRYPTION_KEY is unset. */
export const KEY_FILE_NAME = 'encryption.key';

export class EncryptionKeyError extends Error {}

/** Reads a 32-byte key written as 64 hex digits or as base64 (`openssl rand -base64 32`). */
export function parseEncryptionKey(name: string, text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  throw new EncryptionKeyError(`${name} must be ${KEY_BYTES} random bytes, written as 64 hex digits or as base64 (make one with \`openssl rand -base64 32\`)`);
}

export interface EncryptionKeySettings {
  /** ORDERCAST_ENCRYPTION_KEY */
  key: string | undefined;
  /** ORDERCAST_ENCRYPTION_KEY_PREVIOUS: keys that still open values, comma-separated. */
  previous: string | undefined;
  dialect: 'sqlite' | 'postgres';
  /** Where an SQLite deployment keeps its key file when no key is given. */
  keyFileDir: string;
}

export interface LoadedSecretBox {
  box: SecretBox;
  /** Where the key came from, for the start-up log. */
  source: 'environment' | 'key file (created)' | 'key file' | 'none';
  keyFile?: string;
  /** A key file readable by others than its owner. */
  keyFileTooOpen?: boolean;
}

/**
 * Picks the key that seals stored secrets: ORDERCAST_ENCRYPTION_KEY when set;
 * else, on SQLite, a key file in the data directory, created with mode 0600 on
 * first start (published with link(), so two processes starting at once share one key); else none
 * (PostgreSQL: secrets stay in plain text and the server warns at every start,
 * because a key generated on one node would not be known to the others).
 */
export function loadSecretBox(settings: EncryptionKeySettings): LoadedSecretBox {
  const previous = (settings.previous ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => parseEncryptionKey('ORDERCAST_ENCRYPTION_KEY_PREVIOUS', part));
  if (settings.key !== undefined && settings.key.trim() !== '') {
    return { box: new SecretBox(parseEncryptionKey('ORDERCAST_ENCRYPTION_KEY', settings.key), previous), source: 'environment' };
  }
  if (settings.dialect !== 'sqlite') return { box: new SecretBox(undefined, previous), source: 'none' };
  const keyFile = path.join(settings.keyFileDir, KEY_FILE_NAME);
  let created = false;
  const draft = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(settings.keyFileDir, { recursive: true });
    writeFileSync(draft, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(draft, 0o600);
    // link() publishes the whole file at once and fails if another process got there first.
    linkSync(draft, keyFile);
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new EncryptionKeyError(`cannot create the encryption key file ${keyFile}: ${(error as Error).message}`);
    }
  } finally {
    try {
      unlinkSync(draft);
    } catch {
      // never written
    }
  }
  const key = parseEncryptionKey(`the key file ${keyFile}`, readFileSync(keyFile, 'utf8'));
  const tooOpen = process.platform !== 'win32' && (statSync(keyFile).mode & 0o077) !== 0;
  return { box: new SecretBox(key, previous), source: created ? 'key file (created)' : 'key file', keyFile, keyFileTooOpen: tooOpen };
}
