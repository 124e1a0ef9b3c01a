/** `@ordercast/client/verify`: webhook verification for Node, nothing else. */
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookFailure, type WebhookHeaders } from './verify-webhook.js';
export type { Order, OrderWebhookEvent, StatusHistoryEntry } from './types.js';
