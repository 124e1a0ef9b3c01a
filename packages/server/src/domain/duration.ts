/**
 * Durations as lifecycles write them: a positive whole number and one unit, `s`, `m`, `h`
 * or `d` ("90s", "10m", "2h", "3d"). One spelling per unit keeps a lifecycle readable and
 * comparable; anything else ("10 minutes", "1.5h", "-5m", "0m") is refused.
 */
const DURATION_PATTERN = /^([1-9][0-9]{0,8})([smhd])$/;

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest expected duration: an order meant to wait longer needs no alarm from a tracking server. */
export const MAX_DURATION_MS = 365 * 86_400_000;

export type ParsedDuration = { ok: true; ms: number } | { ok: false; problem: string };

export function parseDuration(text: unknown): ParsedDuration {
  if (typeof text !== 'string') return { ok: false, problem: 'must be a string such as "10m", "2h" or "3d"' };
  const match = DURATION_PATTERN.exec(text);
  if (!match) return { ok: false, problem: `"${text}" is not a duration: use a positive whole number and one of s, m, h, d ("90s", "10m", "2h", "3d")` };
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  if (ms > MAX_DURATION_MS) return { ok: false, problem: `"${text}" is longer than a year (365d)` };
  return { ok: true, ms };
}

/** The milliseconds of a duration already validated by parseDuration. */
export function durationMs(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.ms;
}
