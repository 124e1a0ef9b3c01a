import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/ordercast.js');

/** Runs `ordercast …` to completion (for CLI commands). */
export function runCli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  baseUrl: string;
  /** Where its Prometheus metrics are served (a free loopback port unless `args` say otherwise). */
  metricsUrl: string | undefined;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends a signal and resolves with the exit code once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Server processes still running, killed when the test file's process exits. */
const running = new Set<ChildProcessWithoutNullStreams>();
process.once('exit', () => {
  // A test that timed out may go on and start a server after its cleanups ran: it must not
  // outlive the file and load the machine under the files after it.
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `ordercast serve --port 0 …args` as its own process and waits until it logs
 * the URL it listens on. Later flags win, so `--port N` in `args` picks a port.
 * The one way tests start a server process; the other helpers shape its handle.
 */
export async function startServerProcess(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--metrics-port', '0', ...args], {
    env: { ...process.env, ORDERCAST_LOG_FORMAT: 'json', ...env },
  });
  running.add(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  const metricsUrl = /"metricsUrl":"(http:\/\/[^"]+)"/.exec(output)?.[1];
  return {
    child,
    baseUrl,
    metricsUrl,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      // A server that does not stop in 10 s is a failure to see, not a test to hang.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
