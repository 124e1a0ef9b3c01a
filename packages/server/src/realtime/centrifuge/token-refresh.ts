/**
 * The `ttl` to announce: centrifuge-js refreshes when it runs out, so it runs out a
 * little before the token does (a tenth of the time left, between 2 and 30 s),
 * leaving time to call getToken and send `refresh`.
 */
export function refreshAfterSeconds(lapsesAtMs: number, now = Date.now()): number {
  const left = lapsesAtMs - now;
  const margin = Math.min(30_000, Math.max(2_000, left / 10));
  return Math.max(1, Math.floor((left - margin) / 1000));
}
