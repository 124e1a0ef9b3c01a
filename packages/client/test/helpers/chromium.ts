import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Which Chromium the browser tests drive: Debian's by default. */
export const CHROMIUM = process.env.ORDERCAST_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether a browser test file runs: when Chromium is there, or when CI requires it (it
 * installs Chromium and sets ORDERCAST_TEST_BROWSER=required, so a missing one fails there
 * instead of skipping). Says so once when the file is skipped.
 */
export function browserTestsRun(what: string): boolean {
  const required = process.env.ORDERCAST_TEST_BROWSER === 'required';
  const available = existsSync(CHROMIUM);
  if (!available && !required) {
    console.log(`[ordercast tests] ${what}: SKIPPED (no ${CHROMIUM}; apt-get install chromium, as .ci/run does)`);
  }
  return available || required;
}

/** A headless Chromium as the browser tests use it: no sandbox (root in CI), nothing fetched from outside. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
