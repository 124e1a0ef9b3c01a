import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON lines for machines, colourful lines in a terminal. `stderr` keeps a CLI
 * command's warnings out of the output a script reads (`--json`).
 */
export function createLogger(options: { level: string; pretty: boolean; stderr?: boolean }): Logger {
  const base = { level: options.level, base: { service: 'ordercast' }, redact: ['req.headers.authorization'] };
  const fd = options.stderr ? 2 : 1;
  return options.pretty
    ? pino(base, pretty({ colorize: true, ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l', destination: fd }))
    : pino(base, pino.destination(fd));
}
