/** `@ordercast/client/write`: bulk creates and status changes for backends (a secret key), no socket client. */
export {
  MAX_ITEMS_PER_REQUEST,
  writeOrders,
  type OrderWrite,
  type OrderWriteResult,
  type WriteOrdersOptions,
} from './write-orders.js';
export * from './errors.js';
export type * from './types.js';
