// Runs every benchmark (dist/bench/*.bench.js) one after the other, each printing its own numbers, then one table
// of the headline ratios they reported (bench/lib/summary.ts): shake against the reference measured in the same run.
// Usage: node scripts/run-benches.mjs [substring-filter ...] [-- options passed to every bench]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const tmp = mkdtempSync(join(tmpdir(), 'shake-bench-'));
const summary = join(tmp, 'summary.jsonl');
let failed = 0;
for (const b of benches) {
  console.log(`\n== ${b}`);
  const r = spawnSync(process.execPath, [join(dir, b), ...passOn], {
    stdio: 'inherit',
    env: { ...process.env, SHAKE_BENCH_SUMMARY: summary },
  });
  if (r.status !== 0) {
    failed++;
    console.error(`${b}: exit ${r.status ?? r.signal}`);
  }
}
let rows = [];
try {
  rows = readFileSync(summary, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
} catch {
  // no bench reported a ratio
}
rmSync(tmp, { recursive: true, force: true });
console.log(
  `\n== summary (load average ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')})`,
);
console.log('| work | reference | shake | reference | ratio | goal |');
console.log('|---|---|---|---|---|---|');
const cell = (text) => String(text).replaceAll('|', '\\|');
for (const r of rows) {
  const ratio = r.shake / r.ref;
  const goal = r.goal === null ? '' : `<= ${r.goal}x ${ratio <= r.goal ? 'met' : 'NOT met'}`;
  console.log(
    `| ${cell(r.work)} | ${cell(r.reference)} | ${r.shake.toFixed(3)} ${r.unit} | ${r.ref.toFixed(3)} ${r.unit} | ${ratio.toFixed(2)}x | ${goal} |`,
  );
}
process.exit(failed > 0 ? 1 : 0);
