/** `@ordercast/client/poll`: REST polling only, no socket client in the bundle. */
export { pollOrder, type PollOrderOptions } from './poll-order.js';
export type { PollTuning } from './poll-loop.js';
export type { BackoffOptions } from './backoff.js';
export type { VisibilitySource } from './visibility.js';
export * from './errors.js';
export type * from './types.js';
