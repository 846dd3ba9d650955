/**
 * The WebAssembly CRC-64 against the JavaScript one (crc64.ts, itself checked against Redis's test
 * vector and real RDB files): the check value, every length 0..300 and random splits of large inputs,
 * non-zero starting values, inputs larger than the copy window.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Crc64, fastCrc64, WasmCrc64 } from '@shake/rdb';
import { prng } from '../parser/util.js';

test('WebAssembly is used here, and gives crc64("123456789") = 0xe9c6d914c4b8d9ca', () => {
  const c = fastCrc64();
  assert.ok(c instanceof WasmCrc64);
  assert.equal(c.update(Buffer.from('123456789')).digest(), 0xe9c6d914c4b8d9can);
});

test('same CRC as the JavaScript Crc64: every length 0..300, random splits, starting values, big inputs', () => {
  const rnd = prng(31);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  for (let n = 0; n <= 300; n++) {
    const b = bytes(n);
    assert.equal(fastCrc64().update(b).digest(), new Crc64().update(b).digest(), `length ${n}`);
  }
  for (const n of [65535, 65536, 65537, 200_001]) {
    const b = bytes(n);
    const init = BigInt.asUintN(64, (BigInt(Math.floor(rnd() * 2 ** 52)) << 12n) | 0x8000000000000000n);
    const w = fastCrc64(init);
    let at = 0;
    while (at < n) {
      const step = Math.min(n - at, 1 + Math.floor(rnd() * 90_000));
      w.update(b, at, at + step);
      at += step;
    }
    assert.equal(w.digest(), new Crc64(init).update(b).digest(), `length ${n}`);
  }
});
