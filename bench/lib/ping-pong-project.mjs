import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliJson } from './processes.mjs';

/** A lifecycle in which an order can change status without end (ping ⇄ pong), for write benchmarks. */
const PING_PONG = {
  name: 'ping-pong',
  statuses: ['ping', 'pong', 'end'],
  initial: ['ping'],
  final: ['end'],
  transitions: { ping: ['pong', 'end'], pong: ['ping', 'end'] },
};

/** Creates a ping-pong project through the CLI; `dbArgs` may point it at PostgreSQL. */
export function createPingPongProject(dataDir, dbArgs = []) {
  const lifecycleFile = path.join(dataDir, 'ping-pong.json');
  writeFileSync(lifecycleFile, JSON.stringify(PING_PONG));
  return cliJson(['projects', 'create', '--name', 'bench', '--lifecycle', lifecycleFile, '--json', '--data-dir', dataDir, ...dbArgs]);
}
