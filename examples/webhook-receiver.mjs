#!/usr/bin/env node
// The reference-000 webhook handler, with the signature actually verified.
// Node's http keeps the raw body, which is what the signature covers.
//
//   ORDERCAST_WEBHOOK_SECRET=whsec_... PORT=3000 node examples/webhook-receiver.mjs
import http from 'node:http';
import { verifyWebhook, WebhookVerificationError } from '@ordercast/client/verify';

const secret = process.env.ORDERCAST_WEBHOOK_SECRET;
const seen = new Set(); // webhook-id is the same across retries: handle each event once

async function handle(event) {
  switch (event.eventName) {
    case 'ORDER_COMPLETED':
      console.log(`order ${event.data.id} completed`);
      break;
    case 'ORDER_FAILED':
      console.log(`order ${event.data.id} failed`);
      break;
    default:
      console.log(`order ${event.data.id} is now ${event.data.status}`);
  }
}

const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST') return res.writeHead(405).end();
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try {
    const event = verifyWebhook(Buffer.concat(chunks), req.headers, secret);
    const id = req.headers['webhook-id'];
    if (!seen.has(id)) {
      seen.add(id);
      await handle(event);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received: true }));
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    console.error(`refused a webhook: ${error.code}: ${error.message}`);
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.code }));
  }
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`webhook receiver listening on http://127.0.0.1:${server.address().port}`);
});
