#!/usr/bin/env node
// The `ordercast` command: a thin launcher for the compiled CLI.
import module from 'node:module';

// Node 22 and later keep V8's compiled code between runs (in the temp folder, or
// NODE_COMPILE_CACHE), so each command and each restart loads the server faster.
module.enableCompileCache?.();
try {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv);
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist')) {
    console.error('ordercast is not built yet: run `npm install` (or `npm run build`) at the repository root first.');
    process.exitCode = 2;
  } else {
    throw error;
  }
}
