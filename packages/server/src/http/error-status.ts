import type { ErrorCode } from '../domain/errors.js';

/** The one place error codes become HTTP status codes. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 400,
  invalid_lifecycle: 400,
  unknown_status: 400,
  invalid_initial_status: 400,
  invalid_transition: 409,
  version_conflict: 409,
  order_not_found: 404,
  project_not_found: 404,
  external_id_taken: 409,
  invalid_cursor: 400,
  unauthorized: 401,
  invalid_token: 401,
  token_expired: 401,
  forbidden: 403,
  idempotency_key_reused: 409,
  idempotency_key_in_use: 409,
  rate_limited: 429,
  route_not_found: 404,
  service_unavailable: 503,
  internal_error: 500,
};
