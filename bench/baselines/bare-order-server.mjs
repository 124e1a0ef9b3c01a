// Baseline for the poll scenario: a bare Fastify server answering a constant,
// order-shaped JSON on the same route shape, with the same ETag/304 behaviour.
import Fastify from 'fastify';

const now = new Date().toISOString();
const ORDER = {
  id: 'ord_0000000000000000000000AA',
  object: 'order',
  projectId: 'prj_000000000000000000000000',
  externalId: 'bench-0',
  userExternalId: 'user-0',
  amount: '25.00',
  currency: 'EUR',
  metadata: {},
  status: 'PROCESSING',
  version: 1,
  final: false,
  createdAt: now,
  updatedAt: now,
  statusHistory: [{ status: 'PROCESSING', reason: null, at: now, version: 1 }],
};

const app = Fastify({ logger: false });
app.get('/api/v2/orders/:id', async (request, reply) => {
  reply.header('etag', '"v1"');
  if (request.headers['if-none-match'] === '"v1"') return reply.code(304).send();
  return { ...ORDER, id: request.params.id };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${url}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
