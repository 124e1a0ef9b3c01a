import { spawn } from 'node:child_process';
import { waitFor } from './realtime.js';
import { CLI } from './server-process.js';

/*
 * What is shown once (the demo project's keys, the first admin key) goes to a person at a
 * terminal and nowhere else. `script` (util-linux, in every Debian) gives the server a
 * real pseudo-terminal.
 */

const stripColours = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

/** `ordercast serve` on a terminal of its own, until its Dashboard line (and `alsoWaitFor`) is printed; then stopped. */
export async function serveOnATerminal(env: Record<string, string>, alsoWaitFor = /Dashboard/): Promise<string> {
  // `script` runs one shell command: the settings travel in the environment.
  const child = spawn('script', ['-qfec', 'exec "$ORDERCAST_NODE" "$ORDERCAST_CLI" serve --port 0 --metrics-port off', '/dev/null'], {
    env: {
      ...process.env,
      ORDERCAST_LOG_FORMAT: '',
      NODE_ENV: '',
      ORDERCAST_DATABASE_URL: '',
      DATABASE_URL: '',
      ...env,
      ORDERCAST_NODE: process.execPath,
      ORDERCAST_CLI: CLI,
      SHELL: '/bin/sh',
    },
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    // Log lines go through pino-pretty's stream, so they can come after the Dashboard line.
    const printed = () => /Dashboard: \S+/.test(stripColours(output)) && alsoWaitFor.test(stripColours(output));
    await waitFor(() => printed() || child.exitCode !== null, 'the Dashboard line', 20_000);
    return stripColours(output);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}
