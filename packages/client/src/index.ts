/** `@ordercast/client`. Prefer the subpaths (`/poll`, `/track`, `/verify`) to keep bundles small. */
export * from './poll.js';
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookFailure, type WebhookHeaders } from './verify-webhook.js';
