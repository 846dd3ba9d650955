import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { RdbError, decodeIntset, encodeIntset } from '@shake/rdb';
import { startRedis, type RedisServer } from '../../harness/redis-server.js';
import { buildDump, dumpBlob, encodeString, fuzz, prng, strs, rejectsWith } from './helpers.js';

const RDB_TYPE_SET_INTSET = 11;

const byNumber = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

async function members(c: Redis, key: string): Promise<bigint[]> {
  return (await c.smembers(key)).map((s) => BigInt(s)).sort(byNumber);
}

describe('intset against a live redis-server', () => {
  let server: RedisServer;
  let c: Redis;
  before(async () => {
    server = await startRedis({ config: { 'set-max-intset-entries': '5000', 'sanitize-dump-payload': 'yes' } });
    c = server.client();
  });
  after(async () => {
    c.disconnect();
    await server.stop();
  });

  test('16, 32 and 64-bit intsets decode to SMEMBERS, and encodeIntset rebuilds the same bytes', async () => {
    const sets: Record<string, string[]> = {
      i16: ['0', '-1', '1', '32767', '-32768', '5', '100'],
      i32: ['0', '32768', '-32769', '2147483647', '-2147483648', '7'],
      i64: ['1', '2147483648', '-2147483649', '9223372036854775807', '-9223372036854775808', '9007199254740993'],
    };
    const widths: Record<string, number> = { i16: 2, i32: 4, i64: 8 };
    for (const [key, vals] of Object.entries(sets)) {
      await c.sadd(key, ...vals);
      assert.equal(await c.object('ENCODING', key), 'intset');
      const d = dumpBlob(await c.dumpBuffer(key));
      assert.equal(d.type, RDB_TYPE_SET_INTSET);
      assert.equal(d.blob.readUInt32LE(0), widths[key]);
      const expected = await members(c, key);
      assert.deepEqual(strs(decodeIntset(d.blob)), expected.map(String), key);
      assert.deepEqual(encodeIntset(vals.map(BigInt)), d.blob, `${key}: same bytes as Redis`);
    }
  });

  test('RESTORE (sanitize-dump-payload yes) accepts intsets we build', async () => {
    const rnd = prng(40);
    for (let round = 0; round < 30; round++) {
      const bits = [8, 16, 31, 40, 63][round % 5]!;
      const n = 1 + ((rnd() * 300) | 0);
      const vals: bigint[] = [];
      for (let i = 0; i < n; i++) {
        const v = BigInt(Math.floor(rnd() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(rnd() * 2 ** 32));
        vals.push(BigInt.asIntN(bits + 1, v));
      }
      vals.push(vals[0]!); // a duplicate: dropped
      await c.restore('r', 0, buildDump(RDB_TYPE_SET_INTSET, encodeString(encodeIntset(vals))), 'REPLACE');
      assert.deepEqual(await members(c, 'r'), [...new Set(vals)].sort(byNumber), `round ${round}`);
    }
  });

  test('fuzz real intsets: every truncation fails, flips only ever throw RdbError', async () => {
    for (const [i, key] of ['i16', 'i32', 'i64'].entries()) {
      const blob = dumpBlob(await c.dumpBuffer(key)).blob;
      fuzz(blob, decodeIntset, { seed: 41 + i, flips: 2000, prefixesMustFail: true });
    }
  });
});

describe('intset', () => {
  const rejects = rejectsWith(decodeIntset, 10);

  test('structure checks', () => {
    const valid = encodeIntset([1n, 2n, 3n]);
    assert.deepEqual(valid, Buffer.from([2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0]));
    rejects(valid.subarray(0, 5), /shorter than its 8-byte header/, 10);
    rejects(valid.subarray(0, 13), /needs 14 bytes, has 13/, 10);
    let b = Buffer.from(valid);
    b[0] = 3;
    rejects(b, /invalid encoding 3/, 10);
    b = Buffer.from(valid);
    b.writeInt16LE(1, 10);
    rejects(b, /value 1 is not greater/, 20);
    b = Buffer.from(valid);
    b.writeInt16LE(5, 10);
    rejects(b, /value 2 is not greater/, 22);
    const big = encodeIntset([-(2n ** 40n), 2n ** 40n]);
    big.writeBigInt64LE(-(2n ** 41n), 16);
    rejects(big, /value 1 is not greater/, 26);
    assert.deepEqual(decodeIntset(encodeIntset([])), []);
    assert.throws(() => encodeIntset([2n ** 63n]), RdbError);
  });
});
