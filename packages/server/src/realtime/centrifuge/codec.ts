/**
 * The JSON codec of the Centrifuge protocol: one WebSocket message holds one or
 * more JSON objects separated by newlines, in both directions.
 */
export class CodecError extends Error {}

export const CLIENT_METHODS = [
  'connect',
  'subscribe',
  'unsubscribe',
  'publish',
  'presence',
  'presence_stats',
  'history',
  'send',
  'rpc',
  'refresh',
  'sub_refresh',
] as const;

export type ClientMethod = (typeof CLIENT_METHODS)[number];

export interface Command {
  id: number;
  /** The method named by the command's key; undefined for an empty object (a pong) or an unknown key. */
  method: ClientMethod | undefined;
  /** The unknown key, when the command names a method this server does not know. */
  unknownMethod?: string;
  params: Record<string, unknown>;
  isPong: boolean;
}

export function decodeCommands(frame: string): Command[] {
  return jsonLines(frame).map(toCommand);
}

/** The JSON objects of a frame, one per non-empty line; a CodecError when a line is not one. */
export function jsonLines(frame: string): Record<string, unknown>[] {
  const objects: Record<string, unknown>[] = [];
  for (const line of frame.split('\n')) {
    const text = line.trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CodecError('frame is not JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CodecError('a command must be a JSON object');
    objects.push(value as Record<string, unknown>);
  }
  return objects;
}

function toCommand(raw: Record<string, unknown>): Command {
  const keys = Object.keys(raw).filter((k) => k !== 'id');
  const id = raw.id;
  if (id !== undefined && (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff)) {
    throw new CodecError('command id must be a whole number');
  }
  if (keys.length === 0) return { id: (id as number | undefined) ?? 0, method: undefined, params: {}, isPong: id === undefined };
  const known = keys.find((k): k is ClientMethod => (CLIENT_METHODS as readonly string[]).includes(k));
  const key = known ?? keys[0]!;
  const params = raw[key];
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    throw new CodecError(`"${key.slice(0, 32)}" must be an object`);
  }
  return {
    id: (id as number | undefined) ?? 0,
    method: known,
    unknownMethod: known ? undefined : key,
    params: (params ?? {}) as Record<string, unknown>,
    isPong: false,
  };
}

export function encodeFrame(messages: object[]): string {
  return messages.map((m) => JSON.stringify(m)).join('\n');
}
