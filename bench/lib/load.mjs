// The load generator, run in its own process: autocannon with a plan read from
// the JSON file named on argv, printing one JSON result line. Plans:
//   { url, connections, durationSec, method, headers, paths: [...], ifNoneMatch?, body? }
//   { kind: 'toggle', ... orders: [{id, statuses: [a, b]}] }   (ingest: alternate each order's status)
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function requestsFor(plan) {
  if (plan.kind === 'toggle') {
    // Round-robin over all orders: an order comes round again only after every other
    // order had its turn, long after its previous request was answered (orders >> connections).
    let turn = 0;
    return [
      {
        method: 'POST',
        setupRequest(req) {
          const order = plan.orders[turn++ % plan.orders.length];
          order.flip = !order.flip;
          return {
            ...req,
            path: `/api/v2/orders/${order.id}/status`,
            headers: { ...plan.headers, 'content-type': 'application/json' },
            body: JSON.stringify({ status: order.flip ? order.statuses[1] : order.statuses[0] }),
          };
        },
      },
    ];
  }
  let i = 0;
  return [
    {
      method: plan.method ?? 'GET',
      setupRequest(req) {
        const path = plan.paths[i++ % plan.paths.length];
        return { ...req, path, headers: { ...plan.headers, ...(plan.ifNoneMatch ? { 'if-none-match': plan.ifNoneMatch } : {}) } };
      },
    },
  ];
}

const result = await autocannon({
  url: plan.url,
  connections: plan.connections,
  duration: plan.durationSec,
  requests: requestsFor(plan),
});
process.stdout.write(
  `${JSON.stringify({
    requestsPerSec: result.requests.average,
    total: result.requests.total,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    non2xx: result.non2xx,
    statusCodes: result.statusCodeStats,
    errors: result.errors,
    timeouts: result.timeouts,
  })}\n`,
);
