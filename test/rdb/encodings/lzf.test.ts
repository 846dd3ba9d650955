import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RdbError, lzfCompress, lzfDecompress } from '@shake/rdb';
import { startRedis, type RedisServer } from '../../harness/redis-server.js';
import { buildDump, encodeLen, fuzz, prng, randomBytes, readStringInfo, splitDump } from './helpers.js';

/** Inputs that compress in different ways: runs, repeats at many distances, text, mixed random. */
function samples(): Buffer[] {
  const rnd = prng(10);
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(40));
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', '12345', 'user:', 'session'];
  const wordy = Buffer.from(Array.from({ length: 3000 }, () => words[(rnd() * words.length) | 0]).join(' '));
  const mixed = Buffer.concat(
    Array.from({ length: 50 }, (_, i) => (i % 2 ? randomBytes(rnd, 40) : text.subarray(0, 60))),
  );
  const farRepeat = Buffer.concat([randomBytes(rnd, 9000), randomBytes(rnd, 100)]);
  farRepeat.copy(farRepeat, 8150, 0, 300); // a repeat just inside / just past the 8 KiB window
  return [
    Buffer.alloc(21, 'a'),
    Buffer.alloc(100, 0),
    Buffer.alloc(70_000, 'x'),
    text,
    wordy,
    mixed,
    farRepeat,
    Buffer.from('abcabcabcabcabcabcabcabcabc'),
    Buffer.from('0123456789'.repeat(100)),
  ];
}

describe('lzf', () => {
  test('compress/decompress round trips', () => {
    for (const s of samples()) {
      const c = lzfCompress(s);
      assert.ok(c, `sample of ${s.length} bytes should compress`);
      assert.ok(c.length <= s.length - 4);
      assert.deepEqual(lzfDecompress(c, s.length), s);
    }
  });

  test('random data: null by default (no gain), round trips when given room', () => {
    const rnd = prng(11);
    for (const n of [1, 2, 3, 4, 5, 31, 32, 33, 100, 5000]) {
      const s = randomBytes(rnd, n);
      if (n > 200) assert.equal(lzfCompress(s), null);
      const c = lzfCompress(s, n + 64 + (n >> 4));
      assert.ok(c, `room given for ${n} bytes`);
      assert.deepEqual(lzfDecompress(c, n), s);
    }
    assert.equal(lzfCompress(Buffer.alloc(0)), null);
    assert.equal(lzfCompress(Buffer.alloc(4, 1)), null);
  });

  test('decompress errors are RdbError with offset and reason', () => {
    const at = (src: number[], outLen: number, re: RegExp, offset: number): void => {
      assert.throws(
        () => lzfDecompress(Buffer.from(src), outLen, 500),
        (e: unknown) => e instanceof RdbError && re.test(e.message) && e.offset === offset,
      );
    };
    at([0x20, 0x00], 3, /back-reference before start/, 500);
    at([0x00, 0x61, 0x20, 0x01], 4, /back-reference before start/, 502);
    at([0x05, 0x61], 6, /literal run .* past the end of the input/, 500);
    at([0x01, 0x61, 0x62], 1, /past the declared length/, 500);
    at([0x00, 0x61, 0x20, 0x00], 3, /past the declared length/, 502);
    at([0x00, 0x61], 2, /decompresses to 1 bytes, declared length is 2/, 502);
    at([0xe0], 10, /truncated/, 500);
    at([0xe0, 0x05], 10, /truncated/, 500);
    at([0x00, 0x61], 1e9, /impossible/, 500);
    at([0x00, 0x61], -1, /not a valid length/, 500);
    assert.deepEqual(lzfDecompress(Buffer.alloc(0), 0), Buffer.alloc(0));
  });

  test('overlapping back-references repeat the pattern', () => {
    // literal "ab", then copy 10 bytes from 2 back: "ababababab"
    const out = lzfDecompress(Buffer.from([0x01, 0x61, 0x62, (0x01 << 5) | 0, 0x01, 0xe0, 0x00, 0x01]), 2 + 3 + 9);
    assert.equal(out.toString(), 'ab' + 'aba' + 'babababab');
  });

  test('fuzz: every truncation fails, flipped bytes only ever throw RdbError', () => {
    let rejected = 0;
    for (const [i, s] of samples().entries()) {
      const c = lzfCompress(s)!;
      if (c.length > 2000) continue;
      rejected += fuzz(c, (b, base) => lzfDecompress(b, s.length, base), {
        seed: 100 + i,
        flips: 800,
        prefixesMustFail: true,
      });
    }
    assert.ok(rejected > 2000, `rejected ${rejected}`);
  });
});

describe('lzf against a live redis-server', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis({ config: { 'sanitize-dump-payload': 'yes' } });
  });
  after(async () => {
    await server.stop();
  });

  test('Redis LZF strings in DUMP payloads: we decompress them and compress to the same bytes', async () => {
    const c = server.client();
    try {
      const rnd = prng(12);
      const values = [...samples(), randomBytes(rnd, 1000), Buffer.from('a'.repeat(20)), Buffer.from('ab'.repeat(11))];
      for (const [i, v] of values.entries()) await c.set(`k${i}`, v);
      let compressedByRedis = 0;
      for (const [i, v] of values.entries()) {
        const d = splitDump(await c.dumpBuffer(`k${i}`));
        assert.equal(d.type, 0);
        const info = readStringInfo(d.value);
        assert.deepEqual(info.value, await c.getBuffer(`k${i}`));
        if (info.lzf) {
          compressedByRedis++;
          assert.deepEqual(lzfCompress(v), info.lzf.compressed, `k${i}: same bytes as Redis's lzf_compress`);
        } else if (v.length > 20) {
          assert.equal(lzfCompress(v), null, `k${i}: Redis found no gain, neither do we`);
        }
      }
      assert.ok(compressedByRedis >= 8);
    } finally {
      c.disconnect();
    }
  });

  test('RESTORE accepts strings we compressed, GET returns the original', async () => {
    const c = server.client();
    try {
      for (const [i, v] of samples().entries()) {
        const comp = lzfCompress(v)!;
        const value = Buffer.concat([Buffer.from([0xc3]), encodeLen(comp.length), encodeLen(v.length), comp]);
        await c.restore(`r${i}`, 0, buildDump(0, value), 'REPLACE');
        assert.deepEqual(await c.getBuffer(`r${i}`), v);
      }
    } finally {
      c.disconnect();
    }
  });
});
