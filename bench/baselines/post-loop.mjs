// Baseline for the webhooks scenario, in its own process: an undici keep-alive POST
// loop with the given concurrency and a webhook-shaped body, to the same receiver.
//   node post-loop.mjs <url> <count> <concurrency> [ratePerSecond]
// With a rate, requests are paced and createdAt is the moment each was due.
import { Agent, request } from 'undici';

const [url, countText, concurrencyText, rateText] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const rate = rateText ? Number(rateText) : 0;
const agent = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
const started = performance.timeOrigin + performance.now();
let next = 0;

function body(i, createdAt) {
  return JSON.stringify({
    id: `evt_baseline_${i}`,
    eventName: 'ORDER_CREATED',
    createdAt: new Date(createdAt).toISOString(),
    data: { id: `ord_baseline_${i}`, object: 'order', status: 'PROCESSING', version: 1, amount: '25.00', currency: 'EUR', metadata: {} },
  });
}

async function worker() {
  while (next < count) {
    const i = next++;
    let due = performance.timeOrigin + performance.now();
    if (rate > 0) {
      due = started + (i / rate) * 1000;
      const wait = due - (performance.timeOrigin + performance.now());
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'webhook-id': `msg_baseline_${i}` },
      body: body(i, due),
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`receiver answered ${res.statusCode}`);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
console.log(JSON.stringify({ started }));
await agent.close();
