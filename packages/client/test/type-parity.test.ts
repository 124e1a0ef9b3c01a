import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
const project = fileURLToPath(new URL('./type-parity/tsconfig.json', import.meta.url));

it("the client's Order, StatusHistoryEntry and error codes are exactly the server's", async () => {
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', project], { encoding: 'utf8' }).catch((error) => error);
  expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('');
}, 60_000);
