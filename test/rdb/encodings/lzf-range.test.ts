/**
 * lzfDecompress over a range of a larger buffer (how the parser calls it, without a view per string)
 * gives the bytes, and the errors with their offsets, of the same call on a copy of that range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RdbError, lzfCompress, lzfDecompress } from '@shake/rdb';
import { prng } from '../parser/util.js';

function outcome(f: () => Buffer): string {
  try {
    return `ok:${f().toString('hex')}`;
  } catch (e) {
    assert.ok(e instanceof RdbError, String(e));
    return `err:${e.offset}:${e.message}`;
  }
}

test('a range of a larger buffer decompresses like a copy of it, corrupt input included', () => {
  const rnd = prng(99);
  let compressed = 0;
  for (let i = 0; i < 3000; i++) {
    const n = 24 + Math.floor(rnd() * 600);
    const plain = Buffer.from(Array.from({ length: n }, () => (rnd() < 0.6 ? 0x61 : Math.floor(rnd() * 256))));
    const c = lzfCompress(plain);
    if (!c) continue;
    compressed++;
    const damaged = Buffer.from(c);
    if (i % 2 === 1) damaged[Math.floor(rnd() * damaged.length)] = Math.floor(rnd() * 256);
    const before = Math.floor(rnd() * 50);
    const host = Buffer.concat([Buffer.alloc(before, 0xee), damaged, Buffer.alloc(7, 0xdd)]);
    const outLen = i % 5 === 0 ? n + 1 : n;
    const whole = outcome(() => lzfDecompress(damaged, outLen, 1000));
    const ranged = outcome(() => lzfDecompress(host, outLen, 1000, before, before + damaged.length));
    assert.equal(ranged, whole, `case ${i}`);
    if (i % 2 === 0 && outLen === n) assert.equal(whole, `ok:${plain.toString('hex')}`);
  }
  assert.ok(compressed > 1000);
});
