/**
 * Compile-time proof that the client's public types and the server's domain types are the same
 * shapes, until the server imports them from `@ordercast/client/types` (see docs/client.md).
 * Checked by `type-parity.test.ts` with `tsc --noEmit`; never run.
 */
import type { ErrorCode as ServerErrorCode } from '../../../server/src/domain/errors.js';
import type { Order as ServerOrder, StatusHistoryEntry as ServerStatusHistoryEntry } from '../../../server/src/domain/order.js';
import type { ApiErrorCode, Order, StatusHistoryEntry } from '../../src/types.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const proofs: [Same<Order, ServerOrder>, Same<StatusHistoryEntry, ServerStatusHistoryEntry>, Same<ApiErrorCode, ServerErrorCode>] = [true, true, true];
export default proofs;
