import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPostgresSchema, testDialects } from './helpers/databases.js';
import { connectSocket, emitWithAck, newCentrifuge, userToken, waitFor, wsBase } from './helpers/realtime.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import type { TestServer } from './helpers/test-server.js';

/** A small seeded generator, so a failure can be replayed with the seed it prints. */
function prng(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

type Rng = ReturnType<typeof prng>;

const ODD_VALUES = [
  'null',
  'true',
  '-1',
  '0',
  '1e309',
  '4294967296',
  '-0',
  '"x"',
  '""',
  '[]',
  '{}',
  '[[[[[[[[]]]]]]]]',
  '{"__proto__":{"polluted":1}}',
  '"\\ud800"',
  '"\\u0000"',
  '9007199254740993',
];

function deep(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Breaks a well-formed frame: truncation, a flipped character, inserted bytes or a duplicated piece. */
function mutate(rng: Rng, text: string): string {
  switch (rng.int(5)) {
    case 0:
      return text.slice(0, rng.int(text.length + 1));
    case 1: {
      const i = rng.int(text.length || 1);
      return text.slice(0, i) + String.fromCharCode(rng.int(0x3000)) + text.slice(i + 1);
    }
    case 2: {
      const i = rng.int(text.length + 1);
      return text.slice(0, i) + rng.pick(['{', '}', '[', ']', '"', ',', ':', '\n', '\u0000', '\\', '42', 'null']) + text.slice(i);
    }
    case 3:
      return text + text.slice(rng.int(text.length + 1));
    default:
      return text.replace(/\d+|"[^"]*"|null|true|false/, rng.pick(ODD_VALUES));
  }
}

/** Centrifuge commands, well-formed or nearly: the gateway must answer or close, never crash. */
function centrifugeFrame(rng: Rng, token: string): string | Buffer {
  const id = rng.pick(['1', '2', '0', '-1', '4294967296', '1.5', '"1"', 'null']);
  const method = rng.pick([
    'connect',
    'history',
    'subscribe',
    'unsubscribe',
    'refresh',
    'publish',
    'rpc',
    'send',
    'presence',
    'sub_refresh',
    'nope',
    '__proto__',
    'constructor',
  ]);
  const params = rng.pick([
    `{"token":"${token}"}`,
    `{"token":${rng.pick(ODD_VALUES)}}`,
    `{"data":{"auth":"${token}","project_id":${rng.pick(ODD_VALUES)},"user_external_id":${rng.pick(ODD_VALUES)}}}`,
    `{"data":${rng.pick(ODD_VALUES)},"subs":${rng.pick(['{"a":{"recover":true,"offset":-5,"epoch":7}}', '[]', 'null', '{"orders:x:y":{"recover":true}}'])}}`,
    `{"channel":${rng.pick(ODD_VALUES)},"limit":${rng.pick(ODD_VALUES)},"since":${rng.pick(['{"offset":-1}', '{"offset":1e400,"epoch":1}', 'null', '"x"', '{"epoch":{}}'])},"reverse":${rng.pick(ODD_VALUES)}}`,
    rng.pick(ODD_VALUES),
    deep(2000),
  ]);
  const command = `{"id":${id},"${method}":${params}}`;
  switch (rng.int(8)) {
    case 0:
      return mutate(rng, command);
    case 1:
      return Array.from({ length: 1 + rng.int(5) }, () => (rng.int(3) ? command : mutate(rng, command))).join(rng.pick(['\n', '\n\n', '\r\n', ' ']));
    case 2:
      return Buffer.from(Array.from({ length: 1 + rng.int(64) }, () => rng.int(256)));
    case 3:
      return rng.pick(['', '{}', '{}\n{}', '\n', 'null', '[]', '"', deep(10_000), '{"id":1}', '{"id":1,"connect":{}}']);
    default:
      return command;
  }
}

/** engine.io / socket.io packets to the /ws namespace, well-formed or nearly. */
function socketIoFrame(rng: Rng, apiKey: string): string | Buffer {
  const payload = rng.pick([
    `["subscribe:order",{"orderId":${rng.pick(ODD_VALUES)},"sinceVersion":${rng.pick(ODD_VALUES)}}]`,
    `["subscribe:order",${rng.pick(ODD_VALUES)}]`,
    `["subscribe:project"]`,
    `["unsubscribe:order",{"orderId":"${'o'.repeat(rng.int(200))}"}]`,
    `[${rng.pick(ODD_VALUES)}]`,
    `["${rng.pick(['connect', 'disconnect', 'error', 'newListener', '__proto__', 'constructor', 'toString'])}",1]`,
    `["x",{"_placeholder":true,"num":${rng.pick(['0', '1', '-1', '"a"'])}}]`,
    deep(5000),
  ]);
  const packet = rng.pick([
    `40/ws,{"apiKey":"${apiKey}"}`,
    `40/ws,${rng.pick(ODD_VALUES)}`,
    `40${rng.pick(['/', '/nope,', '/ws', '/ws,', ''])}`,
    `42/ws,${payload}`,
    `42/ws,${rng.int(1000)}${payload}`,
    `43/ws,${rng.int(10)}[]`,
    `45${rng.int(3)}-/ws,${payload}`,
    `41/ws,`,
    `44/ws,{"message":"x"}`,
    `4${rng.int(10)}`,
    rng.pick(['2', '3', '2probe', '3probe', '5', '6', '1', '0', '7', '']),
  ]);
  switch (rng.int(6)) {
    case 0:
      return mutate(rng, packet);
    case 1:
      return Buffer.from(Array.from({ length: 1 + rng.int(64) }, () => rng.int(256)));
    default:
      return packet;
  }
}

/** Opens a socket, sends the frames, and waits (briefly) for the server to close it or for the frames to go. */
async function blast(url: string, frames: Array<string | Buffer>): Promise<void> {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
    ws.once('unexpected-response', () => resolve(false));
  });
  if (!opened) return;
  for (const frame of frames) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(frame, { binary: Buffer.isBuffer(frame) });
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 150);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe.each(testDialects)('WebSocket frame fuzz (%s)', (dialect) => {
  let dir: string;
  let server: ServerProcess;
  let databaseFlags: string[];
  let dropSchema: (() => Promise<void>) | undefined;
  let project: { id: string; secretKey: string; publishableKey: string };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-fuzz-'));
    if (dialect === 'postgres') {
      const schema = await createPostgresSchema();
      dropSchema = schema.drop;
      databaseFlags = ['--database-url', schema.url];
    } else {
      databaseFlags = ['--data-dir', dir];
    }
    const created = runCli(['projects', 'create', '--name', 'Fuzz', '--lifecycle', 'store', '--json', ...databaseFlags]);
    expect(created.code, created.stderr).toBe(0);
    project = JSON.parse(created.stdout);
    // No rate limits, so the frames reach the protocol code instead of the limiters.
    server = await startServerProcess([...databaseFlags, '--no-demo'], {
      ORDERCAST_WS_HANDSHAKE_RATE: '0',
      ORDERCAST_WS_MESSAGE_RATE: '0',
      ORDERCAST_RATE_LIMIT: '0',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await dropSchema?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives thousands of malformed frames on /ws and /connection/websocket: no exit, no internal error, still serving', async () => {
    const seed = Number(process.env.ORDERCAST_FUZZ_SEED ?? Date.now() % 1_000_000);
    const rng = prng(seed);
    const base = wsBase(server.baseUrl);
    const api = overFetch(server.baseUrl);
    const token = await userToken(api, project.secretKey, 'fuzz-user');
    const started = Date.now();
    let frames = 0;
    // Bounded in time: as many rounds as fit in a few seconds, at least enough for thousands of frames.
    while (Date.now() - started < 6_000 || frames < 4_000) {
      const rounds: Promise<void>[] = [];
      for (let i = 0; i < 8; i++) {
        const centrifuge = Array.from({ length: 1 + rng.int(30) }, () => centrifugeFrame(rng, token));
        // Half the sockets start with a valid connect, so later frames reach a connected session.
        if (rng.int(2)) centrifuge.unshift(JSON.stringify({ id: 1, connect: { token } }));
        const socketio = Array.from({ length: 1 + rng.int(30) }, () => socketIoFrame(rng, rng.int(2) ? project.secretKey : 'sk_bad'));
        if (rng.int(2)) socketio.unshift(`40/ws,{"apiKey":"${project.secretKey}"}`);
        frames += centrifuge.length + socketio.length;
        rounds.push(blast(`${base}/connection/websocket`, centrifuge));
        rounds.push(blast(`${base}/socket.io/?EIO=4&transport=websocket`, socketio));
      }
      await Promise.all(rounds);
      expect(server.child.exitCode, `the server exited (seed ${seed})`).toBeNull();
      if (Date.now() - started > 20_000) break;
    }
    expect(frames).toBeGreaterThanOrEqual(4_000);

    // Still serving, on every channel.
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    const socket = await connectSocket(server.baseUrl, { apiKey: project.secretKey });
    try {
      expect(await emitWithAck(socket, 'subscribe:project')).toMatchObject({ subscribed: true });
    } finally {
      socket.close();
    }
    const client = newCentrifuge(api, {}, { token: await userToken(api, project.secretKey, 'after-fuzz') });
    try {
      client.connect();
      await waitFor(() => client.state === 'connected', 'a Centrifuge client to connect after the fuzz');
    } finally {
      client.disconnect();
    }
    // Nothing went wrong inside: no error- or fatal-level log line (pino levels 50 and 60).
    const failures = server
      .output()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line));
    expect(failures, `seed ${seed}`).toEqual([]);
  });
});

/** The parts of a TestServer the realtime helpers use, for a server running as its own process. */
function overFetch(baseUrl: string): TestServer {
  return {
    baseUrl,
    async request(method: string, urlPath: string, options: { key?: string; body?: unknown } = {}) {
      const response = await fetch(`${baseUrl}${urlPath}`, {
        method,
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(options.body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
    },
  } as TestServer;
}
