import type { Executor } from '../transaction.js';

export interface IdempotencyRecord {
  projectId: string;
  key: string;
  requestHash: string;
  statusCode: number;
  responseBody: string;
  createdAt: string;
}

export async function findIdempotencyRecord(db: Executor, projectId: string, key: string): Promise<IdempotencyRecord | undefined> {
  const row = await db.selectFrom('idempotency_keys').selectAll().where('project_id', '=', projectId).where('key', '=', key).executeTakeFirst();
  return row
    ? {
        projectId: row.project_id,
        key: row.key,
        requestHash: row.request_hash,
        statusCode: row.status_code,
        responseBody: row.response_body,
        createdAt: row.created_at,
      }
    : undefined;
}

export async function insertIdempotencyRecord(db: Executor, record: IdempotencyRecord): Promise<void> {
  await db
    .insertInto('idempotency_keys')
    .values({
      project_id: record.projectId,
      key: record.key,
      request_hash: record.requestHash,
      status_code: record.statusCode,
      response_body: record.responseBody,
      created_at: record.createdAt,
    })
    .execute();
}

export async function deleteIdempotencyRecordsBefore(db: Executor, before: string): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteIdempotencyRecord(db: Executor, projectId: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('project_id', '=', projectId).where('key', '=', key).execute();
}
