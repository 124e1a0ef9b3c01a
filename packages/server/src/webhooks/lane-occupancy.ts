import { laneWidth } from '../domain/attempt-outcome.js';
import type { LaneWidths } from '../store/repositories/webhook-deliveries.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';

/**
 * What one dispatcher holds of each endpoint's lane: attempts in flight, and claimed
 * deliveries waiting for a slot. The lanes themselves are kept by the claim, from the
 * leases of every process (claimDueDeliveries); this only tells the dispatcher when a
 * claim of its own filled a lane, so that another claim may find what lies behind it.
 */
export class LaneOccupancy {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly widths: LaneWidths) {}

  started(endpointId: string): void {
    this.inFlight.set(endpointId, (this.inFlight.get(endpointId) ?? 0) + 1);
  }

  finished(endpointId: string): void {
    const left = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (left > 0) this.inFlight.set(endpointId, left);
    else this.inFlight.delete(endpointId);
  }

  /** Whether the attempts in flight and the claimed deliveries `waiting` fill the endpoint's lane. */
  full(endpoint: EndpointRecord, waiting: Iterable<{ row: { endpoint_id: string } }>): boolean {
    const width = laneWidth(endpoint.consecutiveFailures, endpoint.maxInFlight, this.widths.defaultWidth, this.widths.failingAfter);
    let held = this.inFlight.get(endpoint.id) ?? 0;
    for (const claimed of waiting) if (claimed.row.endpoint_id === endpoint.id) held++;
    return held >= width;
  }
}
