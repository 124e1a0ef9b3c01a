/**
 * Compile-time proof that the client's public types and the server's domain types are the same
 * shapes, until the server imports them from `@ordercast/client/types` (see docs/client.md).
 * Checked by `type-parity.test.ts` with `tsc --noEmit` (after `npm run build`, for the
 * package entry points); never run.
 */
import type { ErrorCode as ServerErrorCode } from '../../../server/src/domain/errors.js';
import type { Order as ServerOrder, StatusHistoryEntry as ServerStatusHistoryEntry } from '../../../server/src/domain/order.js';
import type { ApiErrorCode, Order, StatusHistoryEntry } from '../../src/types.js';

// And the published entry points resolve, with their types, the way a TypeScript app imports them.
import type { OrderTracker, trackOrder } from '@ordercast/client/track';
import type { pollOrder } from '@ordercast/client/poll';
import { verifyWebhook } from '@ordercast/client/verify';
import type { Order as PublishedOrder } from '@ordercast/client/types';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const proofs: [
  Same<Order, ServerOrder>,
  Same<StatusHistoryEntry, ServerStatusHistoryEntry>,
  Same<ApiErrorCode, ServerErrorCode>,
  Same<PublishedOrder, Order>,
  Same<Awaited<ReturnType<typeof pollOrder>>, Order>,
  Same<ReturnType<typeof trackOrder>, OrderTracker>,
] = [true, true, true, true, true, true];
export default proofs;

/** Without a type argument, verifyWebhook returns an Ordercast order event. */
export function webhookDataIsAnOrder(): Order {
  return verifyWebhook('', {}, '').data;
}
