import type { WebhookAttempt } from '../../domain/webhook.js';
import { powerOfTwoPieces } from '../batch-shapes.js';
import type { Executor } from '../transaction.js';

function attemptColumns(attempt: WebhookAttempt) {
  return {
    delivery_id: attempt.deliveryId,
    endpoint_id: attempt.endpointId,
    url: attempt.url,
    attempted_at: attempt.attemptedAt,
    duration_ms: Math.round(attempt.durationMs),
    outcome: attempt.outcome,
    status_code: attempt.statusCode,
    response_headers: attempt.responseHeaders === null ? null : JSON.stringify(attempt.responseHeaders),
    response_body: attempt.responseBody,
    error_code: attempt.errorCode,
    error: attempt.error,
  };
}

export async function insertAttempt(db: Executor, attempt: WebhookAttempt): Promise<void> {
  await db.insertInto('webhook_attempts').values(attemptColumns(attempt)).execute();
}

/** Many attempts in a few multi-row statements, in the order given (their `seq` follows it). */
export async function insertAttempts(db: Executor, attempts: readonly WebhookAttempt[]): Promise<void> {
  for (const piece of powerOfTwoPieces(attempts)) {
    await db.insertInto('webhook_attempts').values(piece.map(attemptColumns)).execute();
  }
}

/** Oldest first. */
export async function listAttempts(db: Executor, deliveryId: string, limit = 100): Promise<WebhookAttempt[]> {
  const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('seq').limit(limit).execute();
  return rows.map((row) => ({
    deliveryId: row.delivery_id,
    endpointId: row.endpoint_id,
    url: row.url,
    attemptedAt: row.attempted_at,
    durationMs: Number(row.duration_ms),
    outcome: row.outcome as WebhookAttempt['outcome'],
    statusCode: row.status_code === null ? null : Number(row.status_code),
    responseHeaders: row.response_headers === null ? null : (JSON.parse(row.response_headers) as Record<string, string>),
    responseBody: row.response_body,
    errorCode: row.error_code,
    error: row.error,
  }));
}
