/** `@ordercast/client`. Prefer the subpaths (`/poll`, `/track`, `/verify`, `/write`) to keep bundles small. */
export * from './track.js';
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookFailure, type WebhookHeaders } from './verify-webhook.js';
export { MAX_ITEMS_PER_REQUEST, writeOrders, type OrderWrite, type OrderWriteResult, type WriteOrdersOptions } from './write-orders.js';
