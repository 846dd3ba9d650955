import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { decodeZiplist, encodeZiplist } from '@shake/rdb';
import { suiteServer } from '../../harness/suite-server.js';
import { INT_EDGES } from '../../helpers/int-edges.js';
import {
  buildDump,
  encodeLen,
  encodeString,
  fixturesDir,
  fuzz,
  prng,
  randomBytes,
  strs,
  rejectsWith,
  zsetSample,
} from './helpers.js';
import { walkRdb } from './rdb-blobs.js';

const RDB_TYPE_LIST_ZIPLIST = 10;
const RDB_TYPE_ZSET_ZIPLIST = 12;
const RDB_TYPE_HASH_ZIPLIST = 13;
const RDB_TYPE_LIST_QUICKLIST = 14;
/** Redis 6.2's RDB version: the newest whose DUMP payloads carry ziplists. */
const RDB_VERSION_6_2 = 9;

describe('ziplist', () => {
  test('re-encoding every real ziplist of Redis 2.8 .. 6.2 gives the same bytes (encodeZiplist = ziplistPush)', () => {
    let n = 0;
    for (const label of ['redis-2.8', 'redis-3.2', 'redis-4.0', 'redis-5.0', 'redis-6.2']) {
      const path = join(fixturesDir, 'rdb', `${label}.rdb`);
      assert.ok(existsSync(path), path);
      for (const k of walkRdb(readFileSync(path))) {
        for (const { kind, blob } of k.blobs) {
          if (kind !== 'ziplist') continue;
          assert.deepEqual(encodeZiplist(decodeZiplist(blob)), blob, `${label} ${k.key.toString('latin1')}`);
          n++;
        }
      }
    }
    assert.ok(n > 300, `${n} ziplists`);
  });

  const valid = (): Buffer => encodeZiplist([Buffer.from('ab'), 5, Buffer.alloc(300, 'z'), -2, 1000]);
  const rejects = rejectsWith(decodeZiplist, 100);

  test('structure checks carry the byte offset and say what is wrong', () => {
    // layout: hdr 10 | 00 02 'a' 'b' @10 | 04 f6 @14 | 02 41 2c z*300 @16 | fe <u32 303> fe fe @319 | 07 c0 e8 03 @326 | ff @330
    const b0 = valid();
    assert.equal(b0.length, 331);
    assert.equal(b0.readUInt32LE(4), 326);
    assert.deepEqual(strs(decodeZiplist(b0)), ['ab', '5', 'z'.repeat(300), '-2', '1000']);
    let b = valid();
    rejects(b.subarray(0, 330), /header says 331 bytes, blob has 330/, 100);
    rejects(Buffer.alloc(5), /shorter than its 11-byte minimum/, 100);
    b[330] = 0;
    rejects(b, /does not end with 0xFF/, 430);
    b = valid();
    b.writeUInt32LE(400, 4);
    rejects(b, /tail offset 400 is past the end/, 104);
    b = valid();
    b.writeUInt32LE(319, 4);
    rejects(b, /tail offset 319 is not the last entry \(326\)/, 104);
    b = valid();
    b[14] = 3;
    rejects(b, /entry at 14 says the previous entry is 3 bytes, it is 4/, 114);
    b = valid();
    b[15] = 0xff;
    rejects(b, /entry at 14 has invalid encoding byte 0xff/, 115);
    b = valid();
    b[17] = 0x42; // 14-bit length 556
    rejects(b, /entry at 16 runs past the end/, 116);
    b = valid();
    b.writeUInt16LE(4, 8);
    rejects(b, /header says 4 entries, found 5/, 108);
    b = valid();
    b[14] = 0xff;
    rejects(b, /terminator 0xFF at 14, before the end/, 114);
    b = valid();
    b.writeUInt16LE(0xffff, 8); // unknown count is allowed
    assert.equal(decodeZiplist(b).length, 5);
  });

  test('integer encodings: immediates, 8/16/24/32/64 bit, and what stays a string', () => {
    const vals = [...INT_EDGES, -(2 ** 53) + 1];
    const zl = encodeZiplist(vals);
    assert.deepEqual(strs(decodeZiplist(zl)), vals.map(String));
    // Canonical ints are stored as integers; the rest as strings.
    const asString = ['-0', '01', '', '9223372036854775808', '1.5', ' 1'];
    assert.equal(
      encodeZiplist(asString.map((s) => Buffer.from(s))).length,
      11 + asString.reduce((n, s) => n + 2 + s.length, 0),
    );
    assert.equal(encodeZiplist([Buffer.from('12')]).length, 11 + 2);
    assert.deepEqual(encodeZiplist([Buffer.from('-9223372036854775808')]), encodeZiplist([-(2n ** 63n)]));
    assert.deepEqual(decodeZiplist(encodeZiplist([])), []);
  });

  test('fuzz: every truncation fails, flips only ever throw RdbError', () => {
    const rnd = prng(60);
    const items = [
      valid(),
      encodeZiplist([1, Buffer.from('x'), randomBytes(rnd, 260), 2n ** 40n, Buffer.alloc(17000)]),
    ];
    items.forEach((zl, i) => fuzz(zl, decodeZiplist, { seed: 61 + i, flips: 3000, prefixesMustFail: true }));
  });
});

describe('ziplist: RESTORE into a live redis-server (sanitize-dump-payload yes)', () => {
  let c: Redis;
  suiteServer({ config: { 'sanitize-dump-payload': 'yes' } }, (client) => (c = client));

  /** Random items whose decimal forms are what Redis will hand back. */
  function randomItems(rnd: () => number, n: number, prefix: string): [(Buffer | number | bigint)[], string[]] {
    const items: (Buffer | number | bigint)[] = [];
    const want: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = rnd();
      if (prefix && i % 2 === 0) {
        items.push(Buffer.from(`${prefix}${i}`));
        want.push(`${prefix}${i}`);
      } else if (r < 0.3) {
        const v = Math.floor((rnd() - 0.5) * 2 ** (1 + ((rnd() * 52) | 0)));
        items.push(v);
        want.push(String(v));
      } else {
        const v = randomBytes(rnd, (rnd() * (rnd() < 0.1 ? 20000 : 300)) | 0);
        items.push(v);
        want.push(v.toString('latin1'));
      }
    }
    return [items, want];
  }

  test('hash ziplists and list ziplists / quicklists we build load and read back', async () => {
    const rnd = prng(62);
    for (let round = 0; round < 15; round++) {
      const [items, want] = randomItems(rnd, 2 * (1 + ((rnd() * 40) | 0)), 'f');
      const dump = buildDump(RDB_TYPE_HASH_ZIPLIST, encodeString(encodeZiplist(items)), RDB_VERSION_6_2);
      await c.restore('h', 0, dump, 'REPLACE');
      const got = strs((await c.callBuffer('HGETALL', 'h')) as Buffer[]);
      const asMap = (flat: string[]): Map<string, string> =>
        new Map(flat.flatMap((s, i) => (i % 2 === 0 ? [[s, flat[i + 1]!] as [string, string]] : [])));
      assert.deepEqual(asMap(got), asMap(want), `hash round ${round}`);

      const [litems, lwant] = randomItems(rnd, 1 + ((rnd() * 50) | 0), '');
      await c.restore(
        'l',
        0,
        buildDump(RDB_TYPE_LIST_ZIPLIST, encodeString(encodeZiplist(litems)), RDB_VERSION_6_2),
        'REPLACE',
      );
      assert.deepEqual(strs((await c.callBuffer('LRANGE', 'l', 0, -1)) as Buffer[]), lwant, `list round ${round}`);

      const half = litems.length >> 1;
      const ql = Buffer.concat([
        encodeLen(half > 0 ? 2 : 1),
        ...(half > 0 ? [encodeString(encodeZiplist(litems.slice(0, half)))] : []),
        encodeString(encodeZiplist(litems.slice(half))),
      ]);
      await c.restore('q', 0, buildDump(RDB_TYPE_LIST_QUICKLIST, ql, RDB_VERSION_6_2), 'REPLACE');
      assert.deepEqual(strs((await c.callBuffer('LRANGE', 'q', 0, -1)) as Buffer[]), lwant, `quicklist round ${round}`);
    }
  });

  test('zset ziplist we build loads with its scores', async () => {
    const z = zsetSample(2 ** 40);
    await c.restore(
      'z',
      0,
      buildDump(RDB_TYPE_ZSET_ZIPLIST, encodeString(encodeZiplist(z.items)), RDB_VERSION_6_2),
      'REPLACE',
    );
    assert.deepEqual(await c.zrange('z', 0, '-1', 'WITHSCORES'), z.withScores);
  });
});
