// The load generator, run in its own process: autocannon with a plan read from
// the JSON file named on argv, printing one JSON result line. Plans:
//   { url, connections, durationSec, method, headers, paths: [...], ifNoneMatch?, body? }
//   { kind: 'toggle', ... statuses: [a, b], orders: [{id, status}], refused?: { every, orderIds } }
//     (ingest: alternate each order's status; with `refused`, every Nth request asks a final
//     order to move, which the server refuses with 409)
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
/** The first refused answer, kept so a failed run can say why. */
let firstFailure;

function requestsFor(plan) {
  if (plan.kind === 'toggle') {
    // Round-robin over the orders that have no request in flight; each order's status
    // is learnt from the answer ({id, status}), since autocannon builds requests ahead.
    const status = new Map(plan.orders.map((o) => [o.id, o.status]));
    const inFlight = new Set();
    const [a, b] = plan.statuses;
    let turn = 0;
    let sent = 0;
    return [
      {
        method: 'POST',
        setupRequest(req) {
          if (plan.refused && ++sent % plan.refused.every === 0) {
            const finalId = plan.refused.orderIds[sent % plan.refused.orderIds.length];
            return {
              ...req,
              path: `/api/v2/orders/${finalId}/status`,
              headers: { ...plan.headers, 'content-type': 'application/json' },
              body: JSON.stringify({ status: a }),
            };
          }
          let id;
          for (let tries = 0; tries < plan.orders.length; tries++) {
            id = plan.orders[turn++ % plan.orders.length].id;
            if (!inFlight.has(id)) break;
          }
          inFlight.add(id);
          return {
            ...req,
            path: `/api/v2/orders/${id}/status`,
            headers: { ...plan.headers, 'content-type': 'application/json' },
            body: JSON.stringify({ status: status.get(id) === a ? b : a }),
          };
        },
        onResponse(code, body) {
          if (code === 409 && plan.refused && JSON.parse(body).error?.details?.allowedNextStatuses?.length === 0) return;
          if (code !== 200) {
            firstFailure ??= `${code} ${body}`;
            return;
          }
          const answer = JSON.parse(body);
          status.set(answer.id, answer.status);
          inFlight.delete(answer.id);
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
    firstFailure,
  })}\n`,
);
