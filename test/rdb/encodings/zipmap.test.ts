import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { decodeZipmap } from '@shake/rdb';
import { suiteServer } from '../../harness/suite-server.js';
import { buildDump, encodeString, fuzz, prng, randomBytes, strs, rejectsWith } from './helpers.js';

const RDB_TYPE_HASH_ZIPMAP = 9;

function zmLen(n: number): Buffer {
  if (n < 254) return Buffer.from([n]);
  const b = Buffer.alloc(5);
  b[0] = 254;
  b.writeUInt32LE(n, 1);
  return b;
}

/** A zipmap as zipmap.c lays it out, with `free` unused bytes after each value (test-side builder). */
function buildZipmap(pairs: [Buffer, Buffer, number][], count?: number): Buffer {
  const parts: Buffer[] = [Buffer.from([count ?? (pairs.length < 254 ? pairs.length : 254)])];
  for (const [f, v, free] of pairs) {
    parts.push(zmLen(f.length), f, zmLen(v.length), Buffer.from([free]), v, Buffer.alloc(free, 0xee));
  }
  parts.push(Buffer.from([255]));
  return Buffer.concat(parts);
}

describe('zipmap against a live redis-server (RESTORE type 9, sanitize-dump-payload yes)', () => {
  let c: Redis;
  suiteServer({ config: { 'sanitize-dump-payload': 'yes' } }, (client) => (c = client));

  test('zipmaps with short and long (>= 254) lengths and free bytes: decode equals what Redis loads', async () => {
    const rnd = prng(70);
    for (let round = 0; round < 12; round++) {
      const n = 1 + ((rnd() * (round === 11 ? 300 : 20)) | 0);
      const pairs: [Buffer, Buffer, number][] = [];
      for (let i = 0; i < n; i++) {
        const field = Buffer.concat([Buffer.from(`f${i}:`), randomBytes(rnd, rnd() < 0.2 ? 300 : (rnd() * 10) | 0)]);
        const value = randomBytes(rnd, rnd() < 0.2 ? 254 + ((rnd() * 1000) | 0) : (rnd() * 40) | 0);
        pairs.push([field, value, (rnd() * 5) | 0]);
      }
      const zm = buildZipmap(pairs);
      const decoded = decodeZipmap(zm);
      assert.deepEqual(strs(decoded), strs(pairs.flatMap(([f, v]) => [f, v])));
      await c.restore('h', 0, buildDump(RDB_TYPE_HASH_ZIPMAP, encodeString(zm), 3), 'REPLACE');
      const got = (await c.callBuffer('HGETALL', 'h')) as Buffer[];
      const asMap = (flat: Buffer[]): Map<string, string> => {
        const m = new Map<string, string>();
        for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!.toString('hex'), flat[i + 1]!.toString('hex'));
        return m;
      };
      assert.deepEqual(asMap(decoded), asMap(got), `round ${round}`);
    }
  });
});

describe('zipmap', () => {
  const pairs = (): [Buffer, Buffer, number][] => [
    [Buffer.from('ab'), Buffer.from('xyz'), 2],
    [Buffer.from('k'), Buffer.alloc(300, 'v'), 0],
  ];
  const rejects = rejectsWith(decodeZipmap, 100);

  test('structure checks carry the byte offset and say what is wrong', () => {
    // layout: 02 | 02 'ab' 03 02 'xyz' ee ee @1 | 01 'k' fe <u32 300> 00 v*300 @11 | ff @319
    const valid = buildZipmap(pairs());
    assert.equal(valid.length, 320);
    assert.deepEqual(strs(decodeZipmap(valid)), ['ab', 'xyz', 'k', 'v'.repeat(300)]);
    rejects(Buffer.from([0]), /shorter than its 2-byte minimum/, 100);
    rejects(valid.subarray(0, 319), /does not end with 0xFF/, 418);
    let b = Buffer.from(valid);
    b[0] = 3;
    rejects(b, /header says 3 entries, found 2/, 100);
    b[0] = 254; // unknown count
    assert.equal(decodeZipmap(b).length, 4);
    b = Buffer.from(valid);
    b.writeUInt32LE(400, 14); // value length past the end
    rejects(b, /entry at 11 runs past the end/, 111);
    b = Buffer.from(valid);
    b[1] = 250; // field length past the end
    rejects(b, /entry at 1 runs past the end/, 101);
    assert.deepEqual(decodeZipmap(Buffer.from([0, 255])), []);
  });

  test('fuzz: flips and truncations only ever throw RdbError', () => {
    const rnd = prng(71);
    const big: [Buffer, Buffer, number][] = Array.from({ length: 30 }, (_, i) => [
      Buffer.from(`field${i}`),
      randomBytes(rnd, i % 7 === 0 ? 400 : 20),
      i % 3,
    ]);
    fuzz(buildZipmap(pairs()), decodeZipmap, { seed: 72, flips: 3000, prefixesMustFail: false });
    fuzz(buildZipmap(big), decodeZipmap, { seed: 73, flips: 3000, prefixesMustFail: false });
  });
});
