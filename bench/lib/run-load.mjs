import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './processes.mjs';

/** Runs lib/load.mjs in a separate process and returns its JSON result. */
export async function runLoad(plan) {
  // A plan with thousands of paths is larger than one command-line argument may be.
  const tmp = tempDir('plan');
  const planFile = path.join(tmp.dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/lib/load.mjs'), planFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  tmp.remove();
  if (code !== 0) throw new Error(`load generator failed: ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1));
}
