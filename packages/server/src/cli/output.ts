import { isOrdercastError } from '../domain/errors.js';
import { ConfigError } from '../config.js';

/** Prints an error the way a person at a terminal wants it: one line, no stack. Returns the exit code. */
export function reportCliError(error: unknown): number {
  if (isOrdercastError(error)) {
    console.error(`error (${error.code}): ${error.message}`);
    const problems = (error.details as { problems?: string[] } | undefined)?.problems;
    if (problems && problems.length > 1) for (const p of problems) console.error(`  - ${p}`);
    return 1;
  }
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${message}`);
  // Errors that name their own exit code (a database another server holds) keep it, so scripts can tell them apart.
  const exitCode = (error as { exitCode?: unknown } | undefined)?.exitCode;
  return typeof exitCode === 'number' && Number.isInteger(exitCode) && exitCode > 0 ? exitCode : 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
