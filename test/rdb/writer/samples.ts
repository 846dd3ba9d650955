/**
 * Values of every type for the writer tests, each as (a) the value events the writer takes and (b) the
 * record (shared/fixtures record format) a server should hold after loading it, built from the same input
 * data, never from the writer's output. Tests compare (b) with what a live redis-server reads back.
 */
import type { HashEntry, KeyHeader, RedisType, StreamEntry, StreamGroup, StreamId, ValueEvent } from '@shake/rdb';
import type { KeyRecord, StreamRecord } from '../../helpers/records.js';

export interface Sample {
  header: KeyHeader;
  events: ValueEvent[];
  expected: KeyRecord;
  /** Element count (for the "count known" variant of collections). */
  count?: number;
}

const b64 = (b: Buffer): string => b.toString('base64');
const buf = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);
const idText = (id: StreamId): string => `${id.ms}-${id.seq}`;

/** A deterministic pseudo-random generator (tests must not depend on Math.random). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function header(type: RedisType, key: string | Buffer, expireAtMs: number | null = null, db = 0): KeyHeader {
  return { db, key: buf(key), type, rdbType: -1, encoding: '', expireAtMs, offset: 0 };
}

function record(h: KeyHeader, value: KeyRecord['value']): KeyRecord {
  return { db: h.db, key_b64: b64(h.key), type: h.type, expire_at_ms: h.expireAtMs, value };
}

export function stringSample(key: string | Buffer, value: Buffer, expireAtMs: number | null = null, db = 0): Sample {
  const h = header('string', key, expireAtMs, db);
  return { header: h, events: [{ kind: 'string', value }], expected: record(h, { b64: b64(value) }) };
}

/** Splits `items` into events of `batch` elements, like the parser's batches. */
function batches<T>(items: T[], batch: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batch) out.push(items.slice(i, i + batch));
  return out.length > 0 ? out : [[]];
}

export function listSample(key: string, items: Buffer[], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('list', key, expireAtMs, db);
  return {
    header: h,
    events: batches(items, 100).map((b) => ({ kind: 'list-items', items: b })),
    expected: record(h, items.map(b64)),
    count: items.length,
  };
}

export function setSample(key: string, members: Buffer[], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('set', key, expireAtMs, db);
  const sorted = [...members].sort(Buffer.compare);
  return {
    header: h,
    events: batches(members, 100).map((b) => ({ kind: 'set-members', members: b })),
    expected: record(h, sorted.map(b64)),
    count: members.length,
  };
}

/** Zset records hold scores as numbers printed with String(); tests compare scores numerically. */
export function zsetSample(key: string, entries: [Buffer, number][], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('zset', key, expireAtMs, db);
  const sorted = [...entries].sort((a, b) => a[1] - b[1] || Buffer.compare(a[0], b[0]));
  return {
    header: h,
    events: batches(entries, 100).map((b) => ({
      kind: 'zset-entries',
      entries: b.map(([member, score]) => ({ member, score })),
    })),
    expected: record(
      h,
      sorted.map(([m, s]): [string, string] => [b64(m), String(s)]),
    ),
    count: entries.length,
  };
}

export function hashSample(key: string, entries: HashEntry[], expireAtMs: number | null = null, db = 0): Sample {
  const h = header('hash', key, expireAtMs, db);
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.field, b.field));
  return {
    header: h,
    events: batches(entries, 100).map((b) => ({ kind: 'hash-entries', entries: b })),
    expected: record(
      h,
      sorted.map((e): [string, string] => [b64(e.field), b64(e.value)]),
    ),
    count: entries.length,
  };
}

export interface StreamInput {
  entries: StreamEntry[];
  lastId?: StreamId;
  maxDeletedEntryId?: StreamId | null;
  entriesAdded?: number | null;
  firstId?: StreamId | null;
  groups?: StreamGroup[];
}

export function streamSample(key: string, s: StreamInput, expireAtMs: number | null = null, db = 0): Sample {
  const h = header('stream', key, expireAtMs, db);
  const last = s.lastId ?? s.entries.at(-1)?.id ?? { ms: 0n, seq: 0n };
  const first = s.firstId !== undefined ? s.firstId : (s.entries[0]?.id ?? { ms: 0n, seq: 0n });
  const groups = s.groups ?? [];
  const events: ValueEvent[] = batches(s.entries, 50).map((b) => ({ kind: 'stream-entries', entries: b }));
  events.push({
    kind: 'stream-meta',
    meta: {
      length: s.entries.length,
      lastId: last,
      firstId: first,
      maxDeletedEntryId: s.maxDeletedEntryId ?? { ms: 0n, seq: 0n },
      entriesAdded: s.entriesAdded ?? s.entries.length,
    },
  });
  for (const g of groups) events.push({ kind: 'stream-group', group: g });
  const value: StreamRecord = {
    entries: s.entries.map((e): [string, [string, string][]] => [
      idText(e.id),
      e.fields.map(([f, v]): [string, string] => [b64(f), b64(v)]),
    ]),
    length: s.entries.length,
    last_id: idText(last),
    first_id: first ? idText(first) : '0-0',
    max_deleted_entry_id: idText(s.maxDeletedEntryId ?? { ms: 0n, seq: 0n }),
    entries_added: s.entriesAdded ?? s.entries.length,
    groups: [...groups]
      .sort((a, b) => Buffer.compare(a.name, b.name))
      .map((g) => ({
        name_b64: b64(g.name),
        last_delivered_id: idText(g.lastId),
        entries_read: g.entriesRead,
        pel: g.pel.map((p): [string, string, number, number] => [
          idText(p.id),
          b64(p.consumer ?? Buffer.alloc(0)),
          p.deliveryTimeMs,
          p.deliveryCount,
        ]),
        consumers: [...g.consumers]
          .sort((a, b) => Buffer.compare(a.name, b.name))
          .map((c) => ({
            name_b64: b64(c.name),
            seen_time_ms: c.seenTimeMs,
            active_time_ms: c.activeTimeMs,
            pel: c.pel.map(idText),
          })),
      })),
  };
  return { header: h, events, expected: record(h, value) };
}

const id = (ms: number | bigint, seq: number | bigint = 0): StreamId => ({ ms: BigInt(ms), seq: BigInt(seq) });
const FUTURE = 4102444800000; // 2100-01-01

/** Every type, the edge cases the brief lists. `big` adds collections past the small encodings. */
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

function deterministicBytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

function streamSamples(db: number): Sample[] {
  const f = (s: string): Buffer => Buffer.from(s);
  const basicEntries: StreamEntry[] = Array.from({ length: 20 }, (_, i) => ({
    id: id(1700651898000 + i, 0),
    fields: [
      [f('sensor'), f(`s${i % 3}`)],
      [f('temp'), f(String(20 + i))],
    ],
  }));
  const basic = streamSample(
    'stream:basic',
    {
      entries: basicEntries,
      groups: [
        {
          name: f('readers'),
          lastId: id(1700651898004),
          entriesRead: 5,
          pel: [0, 1, 2, 3, 4].map((i) => ({
            id: id(1700651898000 + i),
            consumer: f(i < 3 ? 'r1' : 'r2'),
            deliveryTimeMs: 1700000123456 + i,
            deliveryCount: i + 1,
          })),
          consumers: [
            {
              name: f('r1'),
              seenTimeMs: 1700000200000,
              activeTimeMs: null,
              pel: [0, 1, 2].map((i) => id(1700651898000 + i)),
            },
            {
              name: f('r2'),
              seenTimeMs: 1700000300000,
              activeTimeMs: null,
              pel: [3, 4].map((i) => id(1700651898000 + i)),
            },
            { name: f('idle'), seenTimeMs: 1700000400000, activeTimeMs: null, pel: [] },
          ],
        },
        { name: f('at-end'), lastId: id(1700651898019), entriesRead: 20, pel: [], consumers: [] },
      ],
    },
    null,
    db,
  );
  // Varying fields, ids with seq > 0, deleted entries (gaps) recorded in max-deleted-id / entries-added,
  // more entries than one listpack node holds.
  const r = prng(3);
  const big: StreamEntry[] = [];
  for (let i = 0; i < 300; i++) {
    if (i % 17 === 5) continue; // deleted
    const fields: [Buffer, Buffer][] =
      i % 4 === 0
        ? [
            [f('a'), f(String(i))],
            [f('b'), f('x'.repeat(Math.floor(r() * 40)))],
          ]
        : [[f(`k${i % 5}`), f(`v${i}`)]];
    big.push({ id: id(1700651899000 + Math.floor(i / 3), i % 3), fields });
  }
  const bigSample = streamSample(
    'stream:big',
    {
      entries: big,
      maxDeletedEntryId: id(1700651899096, 1),
      entriesAdded: 300,
      groups: [
        {
          name: f('group-a'),
          lastId: big[10]!.id,
          entriesRead: null,
          pel: [2, 3, 4].map((i) => ({
            id: big[i]!.id,
            consumer: f('bob'),
            deliveryTimeMs: 1700000123456,
            deliveryCount: 3,
          })),
          consumers: [
            { name: f('bob'), seenTimeMs: 1700000123456, activeTimeMs: null, pel: [2, 3, 4].map((i) => big[i]!.id) },
          ],
        },
      ],
    },
    FUTURE,
    db,
  );
  const binary = streamSample(
    'stream:binary',
    {
      entries: [
        {
          id: id(5, 5),
          fields: [
            [Buffer.from([0, 0xff]), deterministicBytes(64, 64)],
            [f(''), f('')],
          ],
        },
      ],
    },
    null,
    db,
  );
  const emptied = streamSample(
    'stream:emptied',
    {
      entries: [],
      lastId: id(1700651898000, 2),
      firstId: null,
      maxDeletedEntryId: id(1700651898000, 2),
      entriesAdded: 2,
      groups: [{ name: f('g'), lastId: id(0), entriesRead: null, pel: [], consumers: [] }],
    },
    null,
    db,
  );
  // XSETID moved the last id past the last entry.
  const setid = streamSample(
    'stream:setid',
    { entries: [{ id: id(1700651898000), fields: [[f('x'), f('1')]] }], lastId: id(1700651898999, 7) },
    null,
    db,
  );
  emptied.expected = { ...emptied.expected, value: { ...(emptied.expected.value as StreamRecord), first_id: '0-0' } };
  return [basic, bigSample, binary, emptied, setid];
}
