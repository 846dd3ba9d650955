/**
 * How chunks are handed to the parser must not change what it reports: slices of one big buffer (the
 * parser widens its view over them instead of copying), copies of those slices (the parser combines them
 * into a buffer of its own), and a mix of both, at random cut points, with value capture on; and views it
 * handed out stay intact when the caller's next chunks are combined or widened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RdbParser, type RdbEvent, type RdbParserOptions } from '@shake/rdb';
import { canonical, fixtureLabels, parseWhole, prng, rdbFixturesDir } from './util.js';

const opts: RdbParserOptions = { captureRawLimit: 1 << 20 };

type Mode = 'views' | 'copies' | 'mixed';

function parseChunks(data: Buffer, cuts: number[], mode: Mode, rnd: () => number): RdbEvent[] {
  const p = new RdbParser(opts);
  const events: RdbEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut <= from) continue;
    const view = data.subarray(from, cut);
    const copy = mode === 'copies' || (mode === 'mixed' && rnd() < 0.5);
    for (const e of p.push(copy ? Buffer.from(view) : view)) events.push(e);
    from = cut;
  }
  for (const e of p.end()) events.push(e);
  return events;
}

for (const label of fixtureLabels()) {
  test(`fixture ${label}: slices, copies and a mix of both give the events of the whole file`, () => {
    const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
    const whole = canonical(parseWhole(data, opts));
    const rnd = prng(data.length + 17);
    for (const mode of ['views', 'copies', 'mixed'] as const) {
      for (let run = 0; run < 3; run++) {
        const n = 20 + run * 150;
        const cuts = Array.from({ length: n }, () => Math.floor(rnd() * data.length)).sort((a, b) => a - b);
        assert.equal(canonical(parseChunks(data, cuts, mode, rnd)), whole, `${mode} run ${run}`);
      }
    }
  });
}

test('Buffers handed out earlier keep their bytes while later slices of the same memory arrive', () => {
  const data = readFileSync(join(rdbFixturesDir, 'redis-7.4.rdb'));
  const own = Buffer.from(data); // the caller's memory, sliced as a file source does
  const p = new RdbParser(opts);
  const keys: { key: Buffer; hex: string }[] = [];
  for (let off = 0; off < own.length; off += 1000) {
    for (const e of p.push(own.subarray(off, off + 1000))) {
      if (e.kind === 'key-start') keys.push({ key: e.header.key, hex: e.header.key.toString('hex') });
    }
  }
  p.end();
  assert.ok(keys.length > 100);
  for (const k of keys) assert.equal(k.key.toString('hex'), k.hex);
  const expected = parseWhole(data, opts).filter((e) => e.kind === 'key-start');
  assert.deepEqual(
    keys.map((k) => k.hex),
    expected.map((e) => (e.kind === 'key-start' ? e.header.key.toString('hex') : '')),
  );
});
