import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Crc64, crc64 } from '@shake/rdb';
import { startRedis, type RedisServer } from '../../harness/redis-server.js';
import { prng, randomBytes } from './helpers.js';

/** Bit-at-a-time CRC-64/Jones from the definition (reflected), with BigInt: slow but obviously right. */
function referenceCrc64(buf: Uint8Array, init = 0n): bigint {
  const polyReflected = 0x95ac9329ac4bc9b5n;
  let crc = init;
  for (const byte of buf) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ polyReflected : crc >> 1n;
  }
  return crc;
}

const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore ' +
  'magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo ' +
  'consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla ' +
  'pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est ' +
  'laborum.';

describe('crc64', () => {
  test('check values from redis crc64.c', () => {
    assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
    // crc64Test hashes sizeof(li): the text plus its terminating NUL.
    assert.equal(crc64(Buffer.from(LOREM + '\0')), 0xc7794709e69683b3n);
    assert.equal(crc64(Buffer.alloc(0)), 0n);
  });

  test('the bitwise reference agrees with the check value (so it is a valid oracle)', () => {
    assert.equal(referenceCrc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
  });

  test('matches the reference on random inputs of every length 0..200 and at unaligned offsets', () => {
    const rnd = prng(1);
    const big = randomBytes(rnd, 4096);
    for (let n = 0; n <= 200; n++) {
      const start = n % 7;
      const slice = big.subarray(start, start + n);
      assert.equal(crc64(slice), referenceCrc64(slice), `length ${n}`);
    }
    assert.equal(crc64(big), referenceCrc64(big));
  });

  test('incremental: split at every boundary, byte by byte, continuing from a crc', () => {
    const buf = randomBytes(prng(2), 300);
    const whole = crc64(buf);
    for (let i = 0; i <= buf.length; i++) {
      assert.equal(new Crc64().update(buf, 0, i).update(buf, i).digest(), whole, `split at ${i}`);
      assert.equal(crc64(buf.subarray(i), crc64(buf.subarray(0, i))), whole, `continue at ${i}`);
    }
    const c = new Crc64();
    for (let i = 0; i < buf.length; i++) c.update(buf.subarray(i, i + 1));
    assert.equal(c.digest(), whole);
    const le = c.digestLE();
    assert.equal(le.readBigUInt64LE(0), whole);
    // High bit set in the initial value survives the halves split.
    assert.equal(crc64(buf, 0xffffffffffffffffn), referenceCrc64(buf, 0xffffffffffffffffn));
  });
});

describe('crc64 against DUMP payloads of a live redis-server', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  test('the last 8 bytes of every DUMP payload are crc64 (LE) of the bytes before them', async () => {
    const c = server.client();
    try {
      const rnd = prng(4);
      await c.set('s', 'hello');
      await c.set('big', randomBytes(rnd, 100_000));
      await c.set('zeros', Buffer.alloc(50_000));
      await c.rpush('l', 'a', 'b', '1', '2');
      await c.hset('h', 'f', 'v', 'n', '12345');
      await c.sadd('i', '1', '2', '70000');
      await c.zadd('z', 1.5, 'm', 2, 'n');
      for (const key of ['s', 'big', 'zeros', 'l', 'h', 'i', 'z']) {
        const payload = await c.dumpBuffer(key);
        const n = payload.length;
        assert.equal(crc64(payload.subarray(0, n - 8)), payload.readBigUInt64LE(n - 8), key);
      }
    } finally {
      c.disconnect();
    }
  });
});
