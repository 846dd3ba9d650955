import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { encodedStringEnd, RdbError, stringBodyLength, writeStringBody } from '@shake/rdb';
import { suiteServer } from '../../harness/suite-server.js';
import { prng } from './helpers.js';

/** Values that take each form of a string's serialized value: plain, int8/16/32, LZF, and the edges between. */
function values(): Buffer[] {
  const list: Buffer[] = [];
  for (const s of ['', '0', '-0', '1', '-1', '127', '128', '-128', '-129', '32767', '32768', '-32768', '-32769'])
    list.push(Buffer.from(s));
  for (const s of ['2147483647', '2147483648', '-2147483648', '-2147483649', '01', '+1', ' 7', '12345678901'])
    list.push(Buffer.from(s));
  // around the LZF threshold (strings over 20 bytes that compress), 6/14/32-bit length prefixes
  for (const n of [20, 21, 22, 63, 64, 100, 16383, 16384, 70000]) {
    list.push(Buffer.alloc(n, 'a'));
    list.push(Buffer.from('value:123'.padEnd(n, '\0')));
  }
  const rnd = prng(7);
  for (let i = 0; i < 60; i++) {
    const n = Math.floor(rnd() * 3000);
    const b = Buffer.alloc(n);
    // half random (incompressible), half from a small alphabet (compressible)
    for (let j = 0; j < n; j++) b[j] = i % 2 === 0 ? Math.floor(rnd() * 256) : 97 + Math.floor(rnd() * 3);
    list.push(b);
  }
  return list;
}

/** The body of a DUMP payload: the type byte and the 10-byte footer (RDB version, CRC-64) taken off. */
const bodyOf = (payload: Buffer): Buffer => payload.subarray(1, payload.length - 10);

describe('a string key serialized value read straight from its bytes, against the server DUMP', () => {
  let c: Redis;
  suiteServer({}, (client) => (c = client));

  test('every form decodes to the value SET, and its length is known before', async () => {
    const vals = values();
    const forms = new Set<number>();
    for (let i = 0; i < vals.length; i++) {
      const key = `s:${i}`;
      await c.set(key, vals[i]!);
      const payload = (await c.dumpBuffer(key)) as Buffer;
      assert.equal(payload[0], 0, 'a string');
      const body = bodyOf(payload);
      forms.add(body[0]! >> 6 === 3 ? body[0]! : -1);
      assert.equal(stringBodyLength(body), vals[i]!.length, `length of value ${i}`);
      const out = Buffer.alloc(vals[i]!.length + 8, 0xee);
      const end = writeStringBody(body, out, 4);
      assert.equal(end, 4 + vals[i]!.length);
      assert.deepEqual(out.subarray(4, end), vals[i], `value ${i}`);
      assert.equal(out[3], 0xee, 'nothing written before');
      assert.equal(out[end], 0xee, 'nothing written after');
      // Where the string ends without reading it, also inside a bigger buffer.
      assert.equal(encodedStringEnd(body, 0), body.length, `value ${i}`);
      assert.equal(encodedStringEnd(Buffer.concat([Buffer.from('ab'), body, Buffer.from('cd')]), 2), 2 + body.length);
    }
    // plain, int8, int16, int32 and LZF were all met
    for (const f of [-1, 0xc0, 0xc1, 0xc2, 0xc3]) assert.ok(forms.has(f), `form 0x${f.toString(16)} covered`);
  });

  test('a cut or extended body is an RdbError, never a wrong value', async () => {
    for (const v of [Buffer.from('12'), Buffer.from('1234567'), Buffer.alloc(100, 'x'), Buffer.from('hello')]) {
      await c.set('cut', v);
      const body = bodyOf((await c.dumpBuffer('cut')) as Buffer);
      for (let n = 0; n < body.length; n++) {
        const cut = body.subarray(0, n);
        assert.throws(() => encodedStringEnd(cut, 0), RdbError, `encodedStringEnd of ${n} bytes`);
        assert.throws(
          () => writeStringBody(cut, Buffer.alloc(200), 0),
          RdbError,
          `a body cut to ${n} of ${body.length} bytes`,
        );
      }
      assert.throws(() => stringBodyLength(Buffer.concat([body, Buffer.from([0])])), RdbError, 'a byte too many');
    }
  });
});
