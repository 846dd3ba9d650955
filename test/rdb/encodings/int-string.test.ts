import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInt, formatInt64LE, parseCanonicalInt, parseCanonicalSafeInt } from '@shake/rdb';
import { startRedis, type RedisServer } from '../../harness/redis-server.js';
import { prng } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Hand-picked edge cases plus seeded random digit strings with signs, zeros and junk. */
function candidates(): string[] {
  const list = [
    '0',
    '-0',
    '+0',
    '00',
    '01',
    '-01',
    '1',
    '-1',
    '+1',
    ' 1',
    '1 ',
    '',
    '-',
    '--1',
    '1-',
    '12a',
    'a12',
    '9223372036854775807',
    '9223372036854775808',
    '-9223372036854775808',
    '-9223372036854775809',
    '09223372036854775807',
    '18446744073709551615',
    '18446744073709551616',
    '99999999999999999999',
    '100000000000000000000',
    '9007199254740991',
    '9007199254740992',
    '-9007199254740993',
    '1234567890123456',
    '12345678901234567',
    '4294967296',
    '-2147483649',
    '1e3',
    '1.0',
    '0x10',
    '\u00001',
  ];
  const rnd = prng(20);
  for (let i = 0; i < 400; i++) {
    const len = 1 + ((rnd() * 21) | 0);
    let s = rnd() < 0.3 ? '-' : '';
    for (let k = 0; k < len; k++) s += String((rnd() * 10) | 0);
    if (rnd() < 0.05) s = s.replace(/^(-?)\d/, '$1+');
    list.push(s);
  }
  return list;
}

describe('int-string', () => {
  test('canonical int64 vectors (util.c string2ll)', () => {
    assert.equal(parseCanonicalInt(b('0')), 0n);
    assert.equal(parseCanonicalInt(b('-1')), -1n);
    assert.equal(parseCanonicalInt(b('9223372036854775807')), 9223372036854775807n);
    assert.equal(parseCanonicalInt(b('-9223372036854775808')), -9223372036854775808n);
    for (const s of ['-0', '+1', '01', ' 1', '1 ', '', '-', '9223372036854775808', '-9223372036854775809']) {
      assert.equal(parseCanonicalInt(b(s)), null, JSON.stringify(s));
    }
    assert.equal(parseCanonicalSafeInt(b('9007199254740991')), 9007199254740991);
    assert.equal(parseCanonicalSafeInt(b('9007199254740992')), null);
    assert.equal(parseCanonicalSafeInt(b('-42')), -42);
  });

  test('parse(format(n)) === n and format matches String(n)', () => {
    const rnd = prng(21);
    const values: bigint[] = [
      0n,
      1n,
      -1n,
      9999n,
      10000n,
      -9999n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 53n,
      -(2n ** 53n),
    ];
    for (let i = 0; i < 500; i++) {
      const hi = BigInt(Math.floor(rnd() * 2 ** 32)) - 2n ** 31n;
      const lo = BigInt(Math.floor(rnd() * 2 ** 32));
      values.push(BigInt.asIntN(64, (hi << 32n) | lo) >> BigInt((rnd() * 64) | 0));
    }
    for (const v of values) {
      assert.equal(formatInt(v).toString(), v.toString());
      assert.equal(parseCanonicalInt(formatInt(v)), v);
      if (v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n) assert.equal(formatInt(Number(v)).toString(), v.toString());
      const le = Buffer.alloc(10);
      le.writeBigInt64LE(v, 1);
      assert.equal(formatInt64LE(le, 1).toString(), v.toString());
    }
    assert.throws(() => formatInt(1.5), RangeError);
  });
});

describe('int-string against a live redis-server', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server.stop();
  });

  test('canonical <=> Redis stores the string as OBJECT ENCODING int', async () => {
    const c = server.client();
    try {
      const list = candidates();
      const p = c.pipeline();
      list.forEach((s, i) => p.set(`k${i}`, b(s)).object('ENCODING', `k${i}`));
      const res = await p.exec();
      assert.ok(res);
      let ints = 0;
      list.forEach((s, i) => {
        const enc = res[i * 2 + 1]![1];
        const ours = parseCanonicalInt(b(s));
        assert.equal(ours !== null, enc === 'int', `${JSON.stringify(s)}: Redis says ${String(enc)}`);
        if (ours !== null) {
          ints++;
          assert.equal(ours.toString(), s);
        }
      });
      assert.ok(ints > 100 && ints < list.length - 50, `${ints} of ${list.length} canonical`);
    } finally {
      c.disconnect();
    }
  });
});
