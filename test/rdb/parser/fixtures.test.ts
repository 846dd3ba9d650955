/**
 * Every generated fixture: parse it, turn the events into records and compare with the records a live
 * server of that version returned (expected.jsonl); check the header version and AUX fields against
 * meta.json (what a separate skip-parser found in the file) and the function libraries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBuilder } from '../../helpers/events-to-records.js';
import { assertRecordsMatch, compareRecords } from '../../helpers/compare-records.js';
import { fixtureLabels, parseWhole, rdbFixturesDir, readExpected, readMeta } from './util.js';

for (const label of fixtureLabels()) {
  test(`fixture ${label}: every key matches what the server returned`, () => {
    const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
    const meta = readMeta(label);
    const summary = new RecordBuilder().add(parseWhole(data)).finish();

    assert.equal(summary.header?.version, meta.rdb_version, 'header version');
    assert.equal(summary.header?.magic, 'REDIS');
    assert.deepEqual(summary.aux, meta.rdb_scan.aux ?? {}, 'AUX fields');
    const libs = (meta.functions ?? []).map((f) => f.library_code);
    assert.deepEqual(
      summary.functions.map((c) => c.toString('utf8')),
      libs,
      'function libraries',
    );
    assert.ok(summary.end, 'end event');
    if (meta.rdb_version >= 5) {
      assert.ok(summary.end.checksum, 'checksum present');
      assert.equal(summary.end.checksum.stored, summary.end.checksum.computed);
    }
    const expected = readExpected(label);
    assert.equal(summary.records.length, meta.rdb_scan.keys_in_file, 'keys in file');
    assertRecordsMatch(summary.records, expected);
  });
}

test('compareRecords notices a changed value, a missing key and a wrong expire', () => {
  const label = 'redis-7.4';
  const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
  const records = new RecordBuilder().add(parseWhole(data)).finish().records;
  const expected = readExpected(label);
  const changed = records.map((r) => ({ ...r }));
  const str = changed.find((r) => r.type === 'string')!;
  str.value = { b64: Buffer.from('something else').toString('base64') };
  const withTtl = changed.find((r) => r.expire_at_ms !== null)!;
  withTtl.expire_at_ms = withTtl.expire_at_ms! + 1;
  changed.pop();
  const diffs = compareRecords(changed, expected);
  assert.equal(diffs.length, 3, diffs.join('\n'));
});
