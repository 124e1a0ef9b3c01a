/**
 * `@ordercast/client/element`: importing it defines `<ordercast-order-status>` (once, in a
 * browser; in Node it defines nothing). See docs/client.md, "The status element".
 */
import { OrderStatusElement } from './order-status-element.js';

export { OrderStatusElement } from './order-status-element.js';
export type { OrderStatusView, StatusLabels } from './order-status-view.js';
export { followOrderLink, type FollowOrderLinkOptions } from './link-follower.js';
export type { PublicBranding, PublicOrderView } from './public-order.js';

export const ORDER_STATUS_TAG = 'ordercast-order-status';

const registry = (globalThis as { customElements?: CustomElementRegistry }).customElements;
if (registry && !registry.get(ORDER_STATUS_TAG)) registry.define(ORDER_STATUS_TAG, OrderStatusElement);

declare global {
  interface HTMLElementTagNameMap {
    'ordercast-order-status': OrderStatusElement;
  }
}
