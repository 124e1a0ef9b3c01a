import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** JSON lines for machines, colourful lines in a terminal. */
export function createLogger(options: { level: string; pretty: boolean }): Logger {
  const base = { level: options.level, base: { service: 'ordercast' }, redact: ['req.headers.authorization'] };
  return options.pretty ? pino(base, pretty({ colorize: true, ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l' })) : pino(base);
}
