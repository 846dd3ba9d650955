// Runs every compiled test file under dist/test with node's own test runner.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist/test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}
const concurrency = process.env.SHAKE_TEST_CONCURRENCY ?? '2';
const env = { ...process.env };
// SHAKE_TEST_CLOCK=+1y (or +10y, +30d, -2y): the Node side of the suite (tests and the CLI they spawn) runs
// with its clock moved by that much; redis-server keeps the real one. See scripts/fake-clock.mjs.
const clock = process.env.SHAKE_TEST_CLOCK;
if (clock) {
  const m = /^([+-]\d+)([yd])$/.exec(clock);
  if (!m) {
    console.error(`SHAKE_TEST_CLOCK=${clock}: expected e.g. +1y, +10y or +30d`);
    process.exit(2);
  }
  const day = 86_400_000;
  env.SHAKE_FAKE_CLOCK_OFFSET_MS = String(Number(m[1]) * (m[2] === 'y' ? 365 * day : day));
  const hook = join(process.cwd(), 'scripts', 'fake-clock.mjs');
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${hook}`.trim();
  console.error(
    `tests run with the Node clock moved by ${clock} (${new Date(Date.now() + Number(env.SHAKE_FAKE_CLOCK_OFFSET_MS)).toISOString()})`,
  );
}
const res = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);
process.exit(res.status ?? 1);
