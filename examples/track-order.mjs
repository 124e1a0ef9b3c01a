#!/usr/bin/env node
// Follows one order to its final status and prints each step: the reference-000 polling
// loop, without the fixed attempt count, the fixed 5 s sleep or the hard-coded statuses.
//
//   ORDERCAST_URL=http://localhost:8080 ORDERCAST_SECRET_KEY=sk_... node examples/track-order.mjs ord_...
import { trackOrder } from '@ordercast/client/track';

const [orderId] = process.argv.slice(2);
if (!orderId) {
  console.error('usage: node examples/track-order.mjs <order id>');
  process.exit(2);
}

const tracker = trackOrder(orderId, {
  baseUrl: process.env.ORDERCAST_URL ?? 'http://localhost:8080',
  credentials: { secretKey: process.env.ORDERCAST_SECRET_KEY },
  maxWaitMs: Number(process.env.MAX_WAIT_MS ?? 30 * 60_000),
  transport: process.env.TRANSPORT ?? 'auto',
});
tracker.on('update', (order) => console.log(`v${order.version}: Status = ${order.status}`));

try {
  const order = await tracker.finished;
  console.log('Final status:', order.status);
} catch (error) {
  console.error(`${error.name} (${error.code}): ${error.message}`);
  process.exitCode = 1;
}
