// Runs every benchmark (dist/bench/*.bench.js) one after the other, each printing its numbers and ratios.
// Usage: node scripts/run-benches.mjs [substring-filter ...] [-- options passed to every bench]
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const filters = dash >= 0 ? argv.slice(0, dash) : argv;
const passOn = dash >= 0 ? argv.slice(dash + 1) : [];
const dir = join('dist', 'bench');
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (benches.length === 0) {
  console.error('no benchmarks found under dist/bench');
  process.exit(1);
}
let failed = 0;
for (const b of benches) {
  console.log(`\n== ${b}`);
  const r = spawnSync(process.execPath, [join(dir, b), ...passOn], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${b}: exit ${r.status ?? r.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
