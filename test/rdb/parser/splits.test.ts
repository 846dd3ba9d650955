/**
 * Resumability: the same input fed whole, byte by byte, and split at every boundary (small files) or at
 * random points (the generated fixtures) must give identical events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RdbParser } from '@shake/rdb';
import {
  canonical,
  fixtureLabels,
  mergeBatches,
  parseInSteps,
  parseSplit,
  parseWhole,
  prng,
  rdbFixturesDir,
  thirdPartyFiles,
} from './util.js';

const SMALL = 2048;
const opts = { captureRawLimit: 1 << 20 };

for (const label of fixtureLabels()) {
  test(`fixture ${label}: random split points and odd chunk sizes give the same events as whole`, () => {
    const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
    const whole = canonical(parseWhole(data, opts));
    const rnd = prng(label.length * 7919 + data.length);
    for (let run = 0; run < 4; run++) {
      const cuts = Array.from({ length: 40 + run * 60 }, () => Math.floor(rnd() * data.length)).sort((a, b) => a - b);
      assert.equal(canonical(parseSplit(data, cuts, opts)), whole, `random cuts run ${run}`);
    }
    for (const step of [7, 4093]) assert.equal(canonical(parseInSteps(data, step, opts)), whole, `step ${step}`);
  });
}

test('two fixtures byte by byte (whole file) give the same events as whole', () => {
  for (const label of ['redis-7.4', 'redis-2.8']) {
    const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
    assert.equal(canonical(parseInSteps(data, 1, opts)), canonical(parseWhole(data, opts)), label);
  }
});

test('small batch sizes change only the batching, not the content', () => {
  const data = readFileSync(join(rdbFixturesDir, 'redis-7.4.rdb'));
  const whole = canonical(mergeBatches(parseWhole(data)));
  for (const batchSize of [1, 3, 100]) {
    const events = parseInSteps(data, 997, { batchSize });
    for (const e of events) {
      if (e.kind === 'list-items') assert.ok(e.items.length <= batchSize);
      if (e.kind === 'hash-entries' || e.kind === 'zset-entries' || e.kind === 'stream-entries') {
        assert.ok(e.entries.length <= batchSize);
      }
      if (e.kind === 'set-members') assert.ok(e.members.length <= batchSize);
    }
    assert.equal(canonical(mergeBatches(events)), whole, `batchSize ${batchSize}`);
  }
});

for (const file of thirdPartyFiles()) {
  const name = basename(file);
  if (name === 'corrupt_ziplist.rdb') continue;
  const small = statSync(file).size <= SMALL;
  test(`third-party ${name}: ${small ? 'every split point and byte by byte' : 'random splits'}`, () => {
    const data = readFileSync(file);
    const whole = canonical(parseWhole(data, opts));
    if (small) {
      for (let cut = 1; cut < data.length; cut++) {
        assert.equal(canonical(parseSplit(data, [cut], opts)), whole, `split at ${cut}`);
      }
      assert.equal(canonical(parseInSteps(data, 1, opts)), whole, 'byte by byte');
    } else {
      const rnd = prng(data.length);
      for (let run = 0; run < 20; run++) {
        const cuts = Array.from({ length: 30 }, () => Math.floor(rnd() * data.length)).sort((a, b) => a - b);
        assert.equal(canonical(parseSplit(data, cuts, opts)), whole, `run ${run}`);
      }
      assert.equal(canonical(parseInSteps(data, 1, opts)), whole, 'byte by byte');
    }
  });
}

test('offset counts consumed bytes; events come out as soon as their bytes are in', () => {
  const data = readFileSync(join(rdbFixturesDir, 'redis-7.0.rdb'));
  const p = new RdbParser();
  const first = p.push(data.subarray(0, 9));
  assert.deepEqual(first, [{ kind: 'header', magic: 'REDIS', version: 10, offset: 0 }]);
  assert.equal(p.offset, 9);
  const rest = p.push(data.subarray(9, data.length - 1));
  assert.ok(rest.length > 100);
  assert.equal(p.done, false);
  assert.ok(p.offset < data.length - 1, 'the checksum is not consumed before all 8 bytes are in');
  const last = p.push(data.subarray(data.length - 1));
  assert.equal(last.length, 1);
  assert.equal(last[0]!.kind, 'end');
  assert.equal(p.offset, data.length);
  assert.deepEqual(p.end(), []);
});
