/** `@ordercast/client`. Prefer the subpaths (`/poll`, `/track`, `/verify`) to keep bundles small. */
export * from './track.js';
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookFailure, type WebhookHeaders } from './verify-webhook.js';
