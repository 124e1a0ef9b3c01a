import { OrdercastError } from '../domain/errors.js';

/** The longest a rolled key keeps working beside its successor. */
export const MAX_KEY_ROLL_SECONDS = 30 * 24 * 3600;

/** Refuses a grace period that is not a whole number of seconds from 0 to MAX_KEY_ROLL_SECONDS. */
export function assertRollSeconds(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_KEY_ROLL_SECONDS) {
    throw new OrdercastError('validation_failed', `expiresInSeconds must be a whole number of seconds from 0 to ${MAX_KEY_ROLL_SECONDS}`, {
      field: 'expiresInSeconds',
    });
  }
}

/**
 * When a rolled key stops: `expiresInSeconds` after `now`, unless it already stops sooner.
 * A key already in a shorter grace keeps it: a roll never extends a key's life.
 */
export function rolledKeyExpiry(expiresAt: string | null, now: number, expiresInSeconds: number): string {
  const until = now + expiresInSeconds * 1000;
  return expiresAt !== null && Date.parse(expiresAt) < until ? expiresAt : new Date(until).toISOString();
}
