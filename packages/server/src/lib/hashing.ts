import { createHash } from 'node:crypto';

/** Hex SHA-256 of UTF-8 text: how API keys are stored and idempotent requests compared. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
