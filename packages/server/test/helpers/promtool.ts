import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's `prometheus` package puts promtool here; PROMTOOL names another. */
const PROMTOOL = process.env.PROMTOOL || '/usr/bin/promtool';

/**
 * Whether the promtool tests run: always in CI (ORDERCAST_TEST_PROMTOOL=required, where a
 * missing promtool fails them); locally only when promtool is installed.
 */
export const promtoolRequired = process.env.ORDERCAST_TEST_PROMTOOL === 'required';
export const promtoolAvailable = existsSync(PROMTOOL);
export const skipWithoutPromtool = !promtoolAvailable && !promtoolRequired;

/** Runs `promtool …args` with `input` on stdin; its exit code and everything it printed. */
export function promtool(args: string[], input?: string): { code: number | null; output: string } {
  if (!promtoolAvailable) throw new Error(`promtool is not installed at ${PROMTOOL} (Debian: apt-get install prometheus)`);
  const result = spawnSync(PROMTOOL, args, { input, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
