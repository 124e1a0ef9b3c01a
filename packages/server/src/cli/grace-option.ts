import { OrdercastError } from '../domain/errors.js';

/** The `--grace <seconds>` of the key-roll commands, as the whole number of seconds the services take. */
export function graceSeconds(flag: string): number {
  const grace = Number(flag);
  if (!Number.isInteger(grace) || grace < 0) throw new OrdercastError('validation_failed', '--grace must be a whole number of seconds');
  return grace;
}
