import type { Logger } from '../lib/logging.js';
import type { Store } from '../store/database.js';
import { deleteIdempotencyRecordsBefore } from '../store/repositories/idempotency-keys.js';

export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600 * 1000;

/**
 * Idempotency keys answer retries for 24 hours (as Stripe's do); older ones are
 * deleted hourly so the table does not grow for ever. A key reused after that
 * creates a new order.
 */
export function startIdempotencyRetention(store: Store, logger: Logger, everyMs = 3600 * 1000): { stop(): void } {
  const purge = async () => {
    try {
      const deleted = await deleteIdempotencyRecordsBefore(store.db, new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS).toISOString());
      if (deleted > 0) logger.info({ deleted }, 'expired idempotency keys deleted');
    } catch (error) {
      logger.warn({ err: error }, 'could not delete expired idempotency keys; will try again');
    }
  };
  const timer = setInterval(() => void purge(), everyMs);
  timer.unref();
  void purge();
  return { stop: () => clearInterval(timer) };
}
