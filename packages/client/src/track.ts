/** `@ordercast/client/track`: live tracking over the socket with polling fallback (includes socket.io-client). */
export { trackOrder, type TrackOrderOptions } from './track-order.js';
export { OrderTracker, type OrderTrackerEvents, type TransportName } from './order-tracker.js';
export * from './poll.js';
