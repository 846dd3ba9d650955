/**
 * `shake decode` (the built CLI, as a child process) on every generated fixture: the jsonl output,
 * turned into the fixtures' record shape, must equal `<label>.expected.jsonl` (read back from the real
 * servers): same keys, values, TTLs, stream metadata and groups. --format json must carry the same records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, loadExpected } from '../helpers/load-records.js';
import { compareRecords } from '../helpers/compare-records.js';
import { parseDecodedJsonl, toRecord, type DecodedLine } from './helpers/decoded-records.js';
import { runCli } from './helpers/run-cli.js';

const labels = readdirSync(join(fixturesDir, 'rdb'))
  .filter((f) => f.endsWith('.rdb'))
  .map((f) => f.slice(0, -'.rdb'.length))
  .sort();

test('fixture corpus is present', () => {
  assert.ok(labels.length >= 11, `fixtures in ${fixturesDir}`);
});

for (const label of labels) {
  test(`decode --format jsonl ${label} equals expected.jsonl`, async () => {
    const fx = loadExpected(label);
    const res = await runCli(['decode', fx.rdbFile ?? '', '--quiet']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
    const lines = parseDecodedJsonl(res.stdout.toString('utf8'));
    const keys = lines.filter((l) => l.key !== undefined);
    const diffs = compareRecords(keys.map(toRecord), fx.records);
    assert.deepEqual(diffs, [], diffs.slice(0, 10).join('\n'));
    const functions = lines.filter((l) => l.function !== undefined);
    const metaFunctions = (fx.meta.functions as { library_code: string }[] | undefined) ?? [];
    assert.deepEqual(
      functions.map((f) => f.function),
      metaFunctions.map((f) => f.library_code),
    );
    // expire_at is the ISO form of expire_at_ms
    for (const k of keys) {
      if (k.expire_at_ms !== undefined) assert.equal(k.expire_at, new Date(k.expire_at_ms).toISOString());
    }
  });
}

test('decode --format json is one array of the same records as jsonl', async () => {
  const fx = loadExpected('redis-7.4');
  const res = await runCli(['decode', fx.rdbFile ?? '', '--format', 'json', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const arr = JSON.parse(res.stdout.toString('utf8')) as DecodedLine[];
  const diffs = compareRecords(arr.filter((l) => l.key !== undefined).map(toRecord), fx.records);
  assert.deepEqual(diffs, []);
});
