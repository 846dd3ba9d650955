/**
 * Start-up: `shake --version` and `shake decode` of the 22 KB sample against `node -e 0` (Node itself), the same
 * machine, interleaved run by run so each sees the same noise. Wall and CPU (user + system) medians; the ratio
 * that counts is wall vs `node -e 0` (goal <= 2.5x for the decode of the sample).
 * Usage: node dist/bench/startup.bench.js [--runs 21]
 */
import { join } from 'node:path';
import { cli, opt, repoRoot } from './lib/args.js';
import { reportRatio } from './lib/summary.js';
import { median, timed, type Timed } from './lib/timing.js';

const RUNS = opt('runs', 21);
const sample = join(repoRoot, 'examples', 'sample.rdb');

const rows: [string, string[], Timed[]][] = [
  ['node -e 0', ['-e', '0'], []],
  ['shake --version', [cli, '--version'], []],
  ['shake decode examples/sample.rdb', [cli, 'decode', sample, '-q'], []],
];
// One run first so the oclif manifest and the OS caches are warm.
for (const [, argv] of rows) timed(process.execPath, argv, true);
for (let r = 0; r < RUNS; r++) for (const [, argv, t] of rows) t.push(timed(process.execPath, argv, true));

const wall = (t: Timed[]): number => median(t.map((x) => x.secs));
const cpu = (t: Timed[]): number => median(t.map((x) => x.cpu));
const base = rows[0]![2];
console.log(`median of ${RUNS} runs`);
console.log('| command | wall s | CPU s | wall vs node -e 0 | CPU vs node -e 0 |');
console.log('|---|---|---|---|---|');
for (const [name, , t] of rows) {
  console.log(
    `| \`${name}\` | ${wall(t).toFixed(3)} | ${cpu(t).toFixed(3)} | ${(wall(t) / wall(base)).toFixed(2)}x | ${(cpu(t) / cpu(base)).toFixed(2)}x |`,
  );
}
reportRatio({
  work: 'start-up: shake --version',
  reference: 'node -e 0',
  shake: wall(rows[1]![2]),
  ref: wall(base),
  goal: null,
});
reportRatio({
  work: 'start-up: decode of the 22 KB sample',
  reference: 'node -e 0',
  shake: wall(rows[2]![2]),
  ref: wall(base),
  goal: 2.5,
});
