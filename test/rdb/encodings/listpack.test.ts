import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { RdbError, decodeListpack, encodeListpack } from '@shake/rdb';
import { startRedis, type RedisServer } from '../../harness/redis-server.js';
import {
  buildDump,
  dumpBlob,
  encodeLen,
  encodeString,
  fuzz,
  prng,
  randomBytes,
  readLen,
  readString,
  splitDump,
  strs,
  rejectsWith,
  zsetSample,
} from './helpers.js';

const RDB_TYPE_HASH_LISTPACK = 16;
const RDB_TYPE_ZSET_LISTPACK = 17;
const RDB_TYPE_LIST_QUICKLIST_2 = 18;

/** Values that hit every listpack encoding: each int width at its edges, non-canonical ints, each string size. */
function edgeValues(): Buffer[] {
  const ints = [
    '0',
    '1',
    '127',
    '128',
    '-1',
    '-4096',
    '4095',
    '-4097',
    '4096',
    '32767',
    '-32768',
    '32768',
    '-32769',
    '8388607',
    '-8388608',
    '8388608',
    '-8388609',
    '2147483647',
    '-2147483648',
    '2147483648',
    '-2147483649',
    '9007199254740993',
    '-9007199254740993',
    '9223372036854775807',
    '-9223372036854775808',
  ];
  const notInts = ['-0', '01', '+1', ' 1', '1.5', '9223372036854775808', '-9223372036854775809', ''];
  const bytes = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) bytes[i] = i;
  return [
    ...[...ints, ...notInts].map((s) => Buffer.from(s)),
    Buffer.from([0xff]),
    Buffer.from([0xff, 0xff, 0xff]),
    bytes,
    Buffer.alloc(63, 'a'),
    Buffer.alloc(64, 'b'),
    Buffer.alloc(127, 'c'),
    Buffer.alloc(4095, 'd'),
    Buffer.alloc(4096, 'e'),
    Buffer.alloc(16380, 'f'),
    randomBytes(prng(30), 70_000),
  ];
}

async function hgetall(c: Redis, key: string): Promise<Buffer[]> {
  return (await c.callBuffer('HGETALL', key)) as Buffer[];
}

/** A DUMP payload's listpack (types 16, 17), checking the type. */
async function dumpListpack(c: Redis, key: string, type: number): Promise<Buffer> {
  const d = dumpBlob(await c.dumpBuffer(key));
  assert.equal(d.type, type, `${key}: DUMP type`);
  return d.blob;
}

function parseScore(s: string): number {
  return s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
}

describe('listpack against a live redis-server', () => {
  let server: RedisServer;
  let c: Redis;
  before(async () => {
    server = await startRedis({
      config: {
        'hash-max-listpack-entries': '5000',
        'hash-max-listpack-value': '100000',
        'zset-max-listpack-entries': '5000',
        'zset-max-listpack-value': '100000',
        'list-max-listpack-size': '4',
        'sanitize-dump-payload': 'yes',
      },
    });
    c = server.client();
  });
  after(async () => {
    c.disconnect();
    await server.stop();
  });

  test('hash listpack: every encoding decodes to HGETALL, and encodeListpack rebuilds the same bytes', async () => {
    const values = edgeValues();
    const flat: Buffer[] = [];
    values.forEach((v, i) => flat.push(Buffer.from(i % 3 === 0 ? String(i * 1000 - 7000) : `field:${i}`), v));
    await c.hset('h', ...flat);
    assert.equal(await c.object('ENCODING', 'h'), 'listpack');
    const blob = await dumpListpack(c, 'h', RDB_TYPE_HASH_LISTPACK);
    const decoded = decodeListpack(blob);
    assert.deepEqual(strs(decoded), strs(await hgetall(c, 'h')));
    assert.deepEqual(encodeListpack(decoded), blob, 'encodeListpack(decoded) === Redis bytes');
    assert.deepEqual(encodeListpack(flat), blob, 'encodeListpack(what was HSET) === Redis bytes');
  });

  test('zset listpack: members and scores match ZRANGE WITHSCORES; re-encoding is byte-identical', async () => {
    const scores = [
      '0',
      '1',
      '-1',
      '1.5',
      '0.1',
      '1e20',
      '-3.25e-5',
      '4096',
      '2147483648',
      'inf',
      '-inf',
      '123456789012',
    ];
    const args: (string | Buffer)[] = [];
    scores.forEach((s, i) => args.push(s, `m${i}`));
    await c.zadd('z', ...args);
    assert.equal(await c.object('ENCODING', 'z'), 'listpack');
    const blob = await dumpListpack(c, 'z', RDB_TYPE_ZSET_LISTPACK);
    const decoded = strs(decodeListpack(blob));
    const range = await c.zrange('z', 0, '-1', 'WITHSCORES');
    assert.equal(decoded.length, range.length);
    for (let i = 0; i < range.length; i += 2) {
      assert.equal(decoded[i], range[i]);
      assert.equal(parseScore(decoded[i + 1]!), parseScore(range[i + 1]!), `score of ${range[i]}`);
    }
    assert.deepEqual(encodeListpack(decodeListpack(blob)), blob);
  });

  test('list quicklist nodes (listpacks of 4): concatenation equals LRANGE; each node re-encodes identically', async () => {
    const values = edgeValues();
    await c.rpush('l', ...values);
    const d = splitDump(await c.dumpBuffer('l'));
    assert.equal(d.type, RDB_TYPE_LIST_QUICKLIST_2);
    const nodes = readLen(d.value);
    const all: Buffer[] = [];
    for (let i = 0; i < nodes; i++) {
      const container = readLen(d.value);
      const blob = readString(d.value);
      if (container === 1) {
        all.push(blob); // PLAIN node: the element itself
        continue;
      }
      assert.equal(container, 2);
      const items = decodeListpack(blob);
      all.push(...items);
      assert.deepEqual(encodeListpack(items), blob, `node ${i}`);
    }
    assert.ok(nodes > 5);
    assert.deepEqual(strs(all), strs((await c.callBuffer('LRANGE', 'l', 0, -1)) as Buffer[]));
  });

  test('RESTORE (sanitize-dump-payload yes) accepts listpacks we build: hash, zset, list', async () => {
    const rnd = prng(31);
    for (let round = 0; round < 20; round++) {
      const n = 1 + ((rnd() * 60) | 0);
      const items: (Buffer | number | bigint)[] = [];
      const expected: string[] = [];
      for (let i = 0; i < n; i++) {
        items.push(Buffer.from(`f${i}`));
        expected.push(`f${i}`);
        const r = rnd();
        if (r < 0.25) {
          const v = Math.floor((rnd() - 0.5) * 2 ** (1 + ((rnd() * 52) | 0)));
          items.push(v);
          expected.push(String(v));
        } else if (r < 0.35) {
          const v = BigInt.asIntN(
            64,
            BigInt(Math.floor(rnd() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(rnd() * 2 ** 32)),
          );
          items.push(v);
          expected.push(v.toString());
        } else {
          const v = randomBytes(rnd, (rnd() * (rnd() < 0.1 ? 5000 : 100)) | 0);
          items.push(v);
          expected.push(v.toString('latin1'));
        }
      }
      await c.restore('rh', 0, buildDump(RDB_TYPE_HASH_LISTPACK, encodeString(encodeListpack(items))), 'REPLACE');
      assert.deepEqual(strs(await hgetall(c, 'rh')), expected, `round ${round}`);
    }

    const z = zsetSample(1e15);
    await c.restore('rz', 0, buildDump(RDB_TYPE_ZSET_LISTPACK, encodeString(encodeListpack(z.items))), 'REPLACE');
    assert.deepEqual(await c.zrange('rz', 0, '-1', 'WITHSCORES'), z.withScores);

    const node1 = encodeListpack([Buffer.from('x'), 1, 2]);
    const node2 = encodeListpack([Buffer.alloc(5000, 'y'), -70000]);
    const list = Buffer.concat([encodeLen(2), encodeLen(2), encodeString(node1), encodeLen(2), encodeString(node2)]);
    await c.restore('rl', 0, buildDump(RDB_TYPE_LIST_QUICKLIST_2, list), 'REPLACE');
    assert.deepEqual(await c.lrange('rl', 0, -1), ['x', '1', '2', 'y'.repeat(5000), '-70000']);
  });

  test('fuzz real listpacks: every truncation fails, flips only ever throw RdbError', async () => {
    await c.del('fz');
    await c.hset(
      'fz',
      'a',
      '1',
      'b',
      '-300',
      'c',
      'x'.repeat(200),
      'd',
      '99999999999',
      'e',
      '',
      'f',
      '40000',
      'g',
      'y'.repeat(70),
    );
    const blob = await dumpListpack(c, 'fz', RDB_TYPE_HASH_LISTPACK);
    const rejected = fuzz(blob, decodeListpack, { seed: 32, flips: 5000, prefixesMustFail: true });
    assert.ok(rejected > blob.length + 500, `rejected ${rejected}`);
  });
});

describe('listpack', () => {
  const valid = (): Buffer => encodeListpack([Buffer.from('ab'), 5, Buffer.alloc(200, 'z'), -2]);
  const rejects = rejectsWith(decodeListpack, 100);

  test('structure checks carry the byte offset and say what is wrong', () => {
    let b = valid();
    // layout: hdr 6 | 0x82 'a' 'b' bl(3) @6 | 0x05 bl @10 | 0xe0 0xc8 z*200 bl(2) @12 | 0xdf 0xfe bl @216 | 0xff @219
    assert.equal(b.length, 220);
    rejects(b.subarray(0, 219), /header says 220 bytes, blob has 219/, 100);
    rejects(Buffer.alloc(3), /shorter than its 7-byte minimum/, 100);
    b = valid();
    b[219] = 0;
    rejects(b, /does not end with 0xFF/, 319);
    b = valid();
    b[10] = 0xf5;
    rejects(b, /entry at 10 has invalid encoding byte 0xf5/, 110);
    b = valid();
    b[9] = 4;
    rejects(b, /entry at 6 has a backlen that does not match its size 3/, 106);
    b = valid();
    b.writeUInt16LE(5, 4);
    rejects(b, /header says 5 entries, found 4/, 104);
    b = valid();
    b[10] = 0xff;
    rejects(b, /terminator 0xFF at 10, before the end/, 110);
    b = valid();
    b[12] = 0xe1; // 12-bit string length 456 instead of 200
    rejects(b, /entry at 12 runs past the end/, 112);
    b = valid();
    b.writeUInt16LE(0xffff, 4); // unknown count is allowed
    assert.equal(decodeListpack(b).length, 4);
  });

  test('empty listpack, and the encoder choices of lpAppend', () => {
    const empty = encodeListpack([]);
    assert.deepEqual(empty, Buffer.from([7, 0, 0, 0, 0, 0, 0xff]));
    assert.deepEqual(decodeListpack(empty), []);
    // 7-bit uint, 13-bit int, 16/24/32/64-bit ints, strings of 6/12/32-bit lengths
    // Total sizes: 7 bytes of header + terminator, then encoding + data + backlen.
    const totals = [
      [0, 9],
      [127, 9],
      [128, 10],
      [-1, 10],
      [4095, 10],
      [-4096, 10],
      [-4097, 11],
      [4096, 11],
      [32767, 11],
      [32768, 12],
      [-8388608, 12],
      [8388608, 13],
      [2147483647, 13],
      [2147483648, 17],
      [2n ** 62n, 17],
      [-(2n ** 63n), 17],
    ] as const;
    for (const [v, total] of totals) {
      const lp = encodeListpack([v]);
      assert.equal(lp.length, total, String(v));
      assert.equal(decodeListpack(lp)[0]!.toString(), v.toString());
    }
    assert.equal(encodeListpack([Buffer.alloc(63)]).length, 7 + 64 + 1);
    assert.equal(encodeListpack([Buffer.alloc(64)]).length, 7 + 66 + 1);
    assert.equal(encodeListpack([Buffer.alloc(4096)]).length, 7 + 4101 + 2);
    assert.throws(() => encodeListpack([1.5]), RdbError);
    assert.throws(() => encodeListpack([2n ** 63n]), RdbError);
  });

  test('more than 65534 entries: header count is 65535 (unknown)', () => {
    const items = Array.from({ length: 70_000 }, (_, i) => i % 200);
    const lp = encodeListpack(items);
    assert.equal(lp.readUInt16LE(4), 0xffff);
    const back = decodeListpack(lp);
    assert.equal(back.length, 70_000);
    assert.equal(back[69_999]!.toString(), String(69_999 % 200));
  });
});
