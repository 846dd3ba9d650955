/**
 * Values of every type for the writer tests, each as (a) the value events the writer takes and (b) the
 * record (shared/fixtures record format) a server should hold after loading it, built from the same input
 * data, never from the writer's output. Tests compare (b) with what a live redis-server reads back.
 */
import {
  FUTURE,
  buf,
  deterministicBytes,
  hashSample,
  listSample,
  prng,
  setSample,
  stringSample,
  zsetSample,
  type Sample,
} from './sample-base.js';
import { streamSamples } from './stream-samples.js';

export * from './sample-base.js';

/** Every type with its edge cases. `big` adds collections past the small encodings (5000 and 70000 elements). */
export function allSamples(opts: { big?: boolean; db?: number } = {}): Sample[] {
  const db = opts.db ?? 0;
  const rnd = prng(7);
  const out: Sample[] = [];
  const all256 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const ints = [
    '0',
    '-1',
    '1',
    '127',
    '128',
    '-128',
    '-129',
    '255',
    '256',
    '32767',
    '32768',
    '-32768',
    '-32769',
    '2147483647',
    '2147483648',
    '-2147483648',
    '-2147483649',
    '9223372036854775807',
    '-9223372036854775808',
    '9223372036854775808',
    '007',
    '+5',
    ' 3',
    '-0',
    '12345678901',
    '1.5',
  ];
  for (const v of ints) out.push(stringSample(`str:int:${v}`, Buffer.from(v), null, db));
  out.push(stringSample('str:empty', Buffer.alloc(0), null, db));
  out.push(stringSample('', Buffer.from('value of the empty key'), null, db));
  out.push(stringSample(Buffer.from([0, 0xff, 0x0d, 0x0a]), all256, null, db));
  out.push(stringSample('str:20', Buffer.from('a'.repeat(20)), null, db));
  out.push(stringSample('str:21', Buffer.from('a'.repeat(21)), null, db));
  out.push(stringSample('str:lzf', Buffer.from('abcdefgh'.repeat(8192)), FUTURE, db));
  out.push(stringSample('str:random', deterministicBytes(100_000, 11), null, db));
  out.push(stringSample('str:ttl', Buffer.from('expiring'), FUTURE + 123, db));

  out.push(listSample('list:small', ['a', '1', '-5', '', '9223372036854775807'].map(buf).concat([all256]), null, db));
  out.push(listSample('list:one', [Buffer.from('x')], FUTURE, db));
  out.push(listSample('list:bigitem', [Buffer.from('y'.repeat(20000)), Buffer.from('z')], null, db));
  out.push(
    listSample(
      'list:129',
      Array.from({ length: 129 }, (_, i) => Buffer.from(`item-${i}`)),
      null,
      db,
    ),
  );

  out.push(
    setSample(
      'set:intset',
      ['1', '2', '-3', '1099511627776', '-9223372036854775808', '9223372036854775807'].map(buf),
      null,
      db,
    ),
  );
  out.push(setSample('set:notint', ['1', '01', '2'].map(buf), null, db));
  out.push(setSample('set:strings', ['a', 'b', '', 'long '.repeat(30)].map(buf).concat([all256]), FUTURE, db));

  const scores: [string, number][] = [
    ['inf', Infinity],
    ['-inf', -Infinity],
    ['negzero', -0],
    ['zero', 0],
    ['tenth', 0.1],
    ['denormal', 5e-324],
    ['max', 1.7976931348623157e308],
    ['-max', -1.7976931348623157e308],
    ['2^53+2', 2 ** 53 + 2],
    ['1e300', 1e300],
    ['third', 1 / 3],
    ['neg', -2.5],
    ['same-a', 7],
    ['same-b', 7],
  ];
  out.push(
    zsetSample(
      'zset:scores',
      scores.map(([m, s]) => [Buffer.from(m), s]),
      null,
      db,
    ),
  );
  out.push(
    zsetSample(
      'zset:binary',
      [
        [all256, 1],
        [Buffer.alloc(0), 2],
      ],
      FUTURE,
      db,
    ),
  );

  out.push(
    hashSample(
      'hash:small',
      [
        ['f1', 'v1'],
        ['int', '12345'],
        ['', 'empty field'],
        ['empty value', ''],
      ].map(([f, v]) => ({ field: buf(f!), value: buf(v!) })),
      null,
      db,
    ),
  );
  out.push(hashSample('hash:binary', [{ field: all256, value: Buffer.from([0, 1, 2]) }], FUTURE, db));
  out.push(hashSample('hash:longvalue', [{ field: Buffer.from('f'), value: Buffer.from('v'.repeat(300)) }], null, db));

  out.push(...streamSamples(db));

  if (opts.big) {
    const n = 5000;
    out.push(
      listSample(
        'big:list',
        Array.from({ length: n }, (_, i) => Buffer.from(i % 3 ? `elem-${i}` : String(i))),
        null,
        db,
      ),
    );
    // 70000 elements: a 32-bit length prefix.
    out.push(
      listSample(
        'big:list70k',
        Array.from({ length: 70_000 }, (_, i) => Buffer.from(String(i % 10))),
        null,
        db,
      ),
    );
    out.push(
      setSample(
        'big:set:ints',
        Array.from({ length: n }, (_, i) => Buffer.from(String(i * 7 - 1000))),
        null,
        db,
      ),
    );
    out.push(
      setSample(
        'big:set',
        Array.from({ length: n }, (_, i) => Buffer.from(`member-${i}`)),
        FUTURE,
        db,
      ),
    );
    out.push(
      zsetSample(
        'big:zset',
        Array.from({ length: n }, (_, i) => [Buffer.from(`m${i}`), Math.floor(rnd() * 1e6) / 7]),
        null,
        db,
      ),
    );
    out.push(
      hashSample(
        'big:hash',
        Array.from({ length: n }, (_, i) => ({ field: Buffer.from(`field:${i}`), value: Buffer.from(String(i * 13)) })),
        null,
        db,
      ),
    );
  }
  return out;
}
