import { pathToFileURL } from 'node:url';

/**
 * Lets a scenario file run by itself (`node bench/scenarios/<name>.mjs [--quick] [--runs N]`),
 * printing its rows; `npm run bench -- <name>` runs it with the others.
 */
export async function runAloneIfMain(moduleUrl, scenario) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const runsIndex = args.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : quick ? 1 : 3;
  const rows = await scenario({ quick, runs, log: (line) => console.log(`[bench] ${line}`) });
  const num = (v) => (Math.abs(v) < 100 ? v.toFixed(Math.abs(v) < 1 ? 3 : 1) : String(Math.round(v)));
  const fmt = (s) => (s.runs > 1 ? `${num(s.median)} (${num(s.min)}–${num(s.max)})` : num(s.median));
  for (const r of rows) {
    console.log(`${r.scenario}: ${fmt(r.ordercast)} vs baseline ${fmt(r.baseline)} = ${r.ratio.toFixed(2)}× (target ${r.target}: ${r.meets ? 'yes' : 'NO'})`);
    console.log(`  ${r.notes}`);
  }
}
