/** The progress line: only on a terminal, never with --quiet or [log] progress = never; its content. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, formatBytes } from '../../src/cli/progress.js';
import { summaryLine } from '../../src/cli/summary.js';
import { Counters } from '../../src/core/counters.js';

test('progress only on a terminal, and not with --quiet or progress = never', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  assert.equal(Progress.wanted(false, 'auto', tty), true);
  assert.equal(Progress.wanted(true, 'auto', tty), false);
  assert.equal(Progress.wanted(false, 'never', tty), false);
  assert.equal(Progress.wanted(false, 'auto', pipe), false);
});

test('the progress line shows bytes of total, percent, rate and keys; the summary counts skips', () => {
  const p = new Progress({ done: () => 512 * 1024, total: () => 1024 * 1024, keys: () => 12345 });
  const line = p.line(120).replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(line, / 50% {2}512\.0 KB \/ 1\.0 MB {2}.*\/s {2}12,345 keys$/);
  assert.equal(formatBytes(1536), '1.5 KB');
  const c = new Counters();
  c.keysRead = 10;
  c.keysWritten = 7;
  c.skip('filtered', 2);
  c.skip('expired');
  c.bytesRead = 2048;
  assert.equal(
    summaryLine(c, 1500, false),
    '10 keys read, 7 written, skipped: 2 filtered, 1 expired; 2.0 KB in 1.50 s',
  );
});
