import v8 from 'node:v8';
import vm from 'node:vm';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { connectSocket, createOrder, emitWithAck, newCentrifuge, setStatus, userToken, waitFor, wsBase } from './helpers/realtime.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
}

describe('real-time limits and hygiene', () => {
  let server: TestServer;
  let project: CreatedProject;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    project = await server.createProject('store');
    token = await userToken(server, project.secretKey, 'cycler');
  });
  afterAll(async () => {
    await server?.close();
  });

  /** One full Centrifuge session: open, connect (server-side subscribe), close. */
  async function centrifugeCycle(): Promise<void> {
    const ws = new WebSocket(`${wsBase(server.baseUrl)}/connection/websocket`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, connect: { data: { user_external_id: 'cycler', auth: token, project_id: project.project.id } } })));
      ws.once('message', () => ws.close());
      ws.once('close', () => resolve());
      ws.once('error', reject);
    });
  }

  /** One full Socket.IO session: connect, subscribe to an order, disconnect. */
  async function socketIoCycle(orderId: string): Promise<void> {
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    await emitWithAck(socket, 'subscribe:order', { orderId });
    await new Promise<void>((resolve) => {
      socket.once('disconnect', () => resolve());
      socket.disconnect();
    });
  }

  it('does not leak after 10,000 connect/disconnect cycles: heap back within 10%, no connection or subscription left', async () => {
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'cycler' });
    // Warm up, so lazily created structures (JIT, pools, caches) are in the baseline.
    for (let i = 0; i < 1000; i += 25) await Promise.all(Array.from({ length: 25 }, (_, j) => (j % 2 === 0 ? centrifugeCycle() : socketIoCycle(orderId))));
    const before = await settledHeap();
    const started = Date.now();
    const workers = Array.from({ length: 25 }, async (_, w) => {
      for (let i = w; i < Number(process.env.CYCLES ?? 10_000); i += 25) await (i % 2 === 0 ? centrifugeCycle() : socketIoCycle(orderId));
    });
    await Promise.all(workers);
    const seconds = (Date.now() - started) / 1000;
    await waitFor(() => server.app.centrifuge.connectionCount === 0 && server.app.socketio.connectionCount === 0, 'every connection to be released');
    const after = await settledHeap();
    console.log(
      `[hygiene] ${process.env.CYCLES ?? 10_000} cycles in ${seconds.toFixed(1)} s; heap ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB`,
    );
    expect(after).toBeLessThan(before * 1.1);
    const metrics = await (await fetch(server.metricsUrl)).text();
    expect(metrics).toMatch(/ordercast_realtime_connections\{gateway="centrifuge"\} 0/);
    expect(metrics).toMatch(/ordercast_realtime_connections\{gateway="socketio"\} 0/);
    expect(metrics).toMatch(/ordercast_realtime_subscriptions\{gateway="centrifuge"\} 0/);
    expect(metrics).toMatch(/ordercast_realtime_subscriptions\{gateway="socketio"\} 0/);
    // Bound by CPU, not by waits: it takes several times longer while another test file
    // runs beside it on two cores (bench/README.md, "The test suite").
  }, 180_000);

  it('counts messages and measures fan-out latency', async () => {
    const orderId = await createOrder(server, project.secretKey, { userExternalId: 'metrics-user' });
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    await emitWithAck(socket, 'subscribe:order', { orderId });
    const client = newCentrifuge(server, {
      user_external_id: 'metrics-user',
      auth: await userToken(server, project.secretKey, 'metrics-user'),
      project_id: project.project.id,
    });
    let pubs = 0;
    let updates = 0;
    client.on('publication', () => pubs++);
    socket.on('order:update', () => updates++);
    client.connect();
    await client.ready(5000);
    await setStatus(server, project.secretKey, orderId, 'paid');
    await waitFor(() => pubs === 1 && updates === 1, 'one message on each gateway');
    const metrics = await (await fetch(server.metricsUrl)).text();
    expect(metrics).toMatch(/ordercast_realtime_messages_sent_total\{gateway="centrifuge"\} [1-9]/);
    expect(metrics).toMatch(/ordercast_realtime_messages_sent_total\{gateway="socketio"\} [1-9]/);
    expect(metrics).toMatch(/ordercast_realtime_fanout_latency_seconds_count\{gateway="socketio"\} [1-9]/);
    expect(metrics).toMatch(/ordercast_realtime_connections\{gateway="centrifuge"\} 1/);
    socket.close();
    client.disconnect();
  });

  it('limits handshakes per IP on both gateways', async () => {
    const limited = await startTestServer('sqlite', { ORDERCAST_WS_HANDSHAKE_RATE: '2' });
    try {
      const p = await limited.createProject('store');
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          connectSocket(limited.baseUrl, { apiKey: p.secretKey }).then(
            (s) => (s.close(), 'ok'),
            (e) => e.data?.code,
          ),
        ),
      );
      expect(results).toContain('rate_limited');
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () => {
          const ws = new WebSocket(`${wsBase(limited.baseUrl)}/connection/websocket`);
          return new Promise<number>((resolve) => {
            ws.once('open', () => (ws.close(), resolve(101)));
            ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
            ws.once('error', () => {});
          });
        }),
      );
      expect(statuses).toContain(429);
    } finally {
      await limited.close();
    }
  });

  it('refuses an unknown WebSocket path with 404', async () => {
    const ws = new WebSocket(`${wsBase(server.baseUrl)}/connection/nope`);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => {});
    });
    expect(status).toBe(404);
    // socket.io over long-polling still works beside the raw WebSocket endpoint.
    const polling = io(`${server.baseUrl}/ws`, { auth: { apiKey: project.secretKey }, transports: ['polling'], reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      polling.once('connect', () => resolve());
      polling.once('connect_error', reject);
    });
    polling.close();
  });
});
