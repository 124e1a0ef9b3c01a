import type { Kysely } from 'kysely';
import type { WebhookSecret } from '../domain/webhook.js';
import type { Database } from './schema.js';
import { findTokenSecrets, replaceTokenSecrets } from './repositories/projects.js';
import { isSealed, type SecretBox } from './secret-box.js';

export interface ResealResult {
  /** Rows written again: secrets that were in plain text or sealed with a previous key. */
  tokenSecrets: number;
  webhookEndpoints: number;
  /** Secrets still in plain text because no key is configured. */
  plainText: number;
}

/**
 * Runs at every start, after the migrations: brings every stored secret to the
 * current key. Plain-text secrets (stored before encryption, or while no key was
 * set) are sealed, and ones sealed with ORDERCAST_ENCRYPTION_KEY_PREVIOUS are
 * re-sealed. Each row is opened first, so a secret no configured key opens stops
 * the start with a clear error instead of failing later, request by request.
 * Writes are compare-and-set on the value read: a rotation made meanwhile by
 * another process wins, and its new secret was sealed with the current key anyway.
 */
export async function resealStoredSecrets(db: Kysely<Database>, box: SecretBox): Promise<ResealResult> {
  const result: ResealResult = { tokenSecrets: 0, webhookEndpoints: 0, plainText: 0 };
  for (const stored of await findTokenSecrets(db)) {
    const values = [stored.current, ...(stored.previous === null ? [] : [stored.previous])];
    for (const value of values) box.open(value);
    if (!box.encrypting) {
      result.plainText += values.filter((v) => !isSealed(v)).length;
      continue;
    }
    if (!values.some((v) => box.needsReseal(v))) continue;
    const next = {
      current: box.reseal(stored.current),
      previous: stored.previous === null ? null : box.reseal(stored.previous),
      previousExpiresAt: stored.previousExpiresAt,
    };
    if (await replaceTokenSecrets(db, stored, next)) result.tokenSecrets += 1;
  }
  const endpoints = await db.selectFrom('webhook_endpoints').select(['id', 'secrets', 'headers']).execute();
  for (const row of endpoints) {
    // Custom headers (they may carry a receiver's credentials), sealed whole as one JSON text.
    if (row.headers !== null) {
      box.open(row.headers);
      if (!box.encrypting) result.plainText += isSealed(row.headers) ? 0 : 1;
      else if (box.needsReseal(row.headers)) {
        const written = await db
          .updateTable('webhook_endpoints')
          .set({ headers: box.reseal(row.headers) })
          .where('id', '=', row.id)
          .where('headers', '=', row.headers)
          .executeTakeFirst();
        if (Number(written.numUpdatedRows) > 0) result.webhookEndpoints += 1;
      }
    }
    const secrets = JSON.parse(row.secrets) as WebhookSecret[];
    for (const s of secrets) box.open(s.secret);
    if (!box.encrypting) {
      result.plainText += secrets.filter((s) => !isSealed(s.secret)).length;
      continue;
    }
    if (!secrets.some((s) => box.needsReseal(s.secret))) continue;
    const next = JSON.stringify(secrets.map((s) => ({ ...s, secret: box.reseal(s.secret) })));
    const written = await db
      .updateTable('webhook_endpoints')
      .set({ secrets: next })
      .where('id', '=', row.id)
      .where('secrets', '=', row.secrets)
      .executeTakeFirst();
    if (Number(written.numUpdatedRows) > 0) result.webhookEndpoints += 1;
  }
  return result;
}
