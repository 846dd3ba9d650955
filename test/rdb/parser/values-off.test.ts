/**
 * Keys-only parsing (`values: false`): the same keys, headers, offsets, non-key records and checksum as a
 * full parse, judged against what the real servers hold (the fixtures' expected.jsonl: keys, types,
 * expiries and element counts); every split point and byte by byte; hostile input (only RdbError, no
 * hang); and a value far larger than any chunk is skipped as it streams by, never buffered whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RdbError, RdbParser, isValueEvent, type RdbEvent, type RdbParserOptions } from '@shake/rdb';
import { i64le, len, rdbFile, str, u8 } from './build.js';
import {
  canonical,
  fixtureLabels,
  parseInSteps,
  parseSplit,
  parseWhole,
  prng,
  rdbFixturesDir,
  readExpected,
  thirdPartyFiles,
} from './util.js';

const KEYS_ONLY: RdbParserOptions = { values: false };

/**
 * The full parse without its value events, in the form keys-only parsing must produce. A key-start
 * `length` is kept only where keys-only parsing stated one too (it omits it for LZF-compressed blobs);
 * where both state one they must agree.
 */
function withoutValues(full: RdbEvent[], keysOnly: RdbEvent[]): RdbEvent[] {
  const out = full.filter((e) => !isValueEvent(e));
  assert.equal(out.length, keysOnly.length, 'same number of non-value events');
  return out.map((e, i) => {
    const k = keysOnly[i]!;
    if (e.kind === 'key-start' && k.kind === 'key-start' && k.length === undefined && e.length !== undefined) {
      return { kind: 'key-start', header: e.header };
    }
    return e;
  });
}

function assertSameKeys(data: Buffer, what: string, opts: RdbParserOptions = {}): RdbEvent[] {
  const keysOnly = parseWhole(data, { ...opts, ...KEYS_ONLY });
  for (const e of keysOnly) assert.ok(!isValueEvent(e), `${what}: no ${e.kind} events`);
  assert.equal(canonical(keysOnly), canonical(withoutValues(parseWhole(data, opts), keysOnly)), what);
  return keysOnly;
}

function elementCount(v: unknown): number | null {
  return Array.isArray(v) ? v.length : null;
}

for (const label of fixtureLabels()) {
  test(`fixture ${label}: keys only = the server's keys, types, expiries and element counts`, () => {
    const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
    const events = assertSameKeys(data, label, { captureRawLimit: 1 << 20 });
    const expected = new Map(readExpected(label).map((r) => [`${r.db}:${r.key_b64}`, r]));
    let keys = 0;
    let lengths = 0;
    for (const e of events) {
      if (e.kind !== 'key-start') continue;
      keys++;
      const id = `${e.header.db}:${e.header.key.toString('base64')}`;
      const r = expected.get(id);
      assert.ok(r, `${label}: key ${id} is not in expected.jsonl`);
      assert.equal(e.header.type, r.type, id);
      if (!r.expire_approx) assert.equal(e.header.expireAtMs, r.expire_at_ms, id);
      const n = elementCount(r.value);
      if (e.length !== undefined && n !== null) {
        assert.equal(e.length, n, `${label}: length of ${id}`);
        lengths++;
      }
    }
    assert.equal(keys, expected.size, `${label}: key count`);
    assert.ok(lengths > 10, `${label}: lengths were checked (${lengths})`);
    const end = events.at(-1);
    assert.equal(end?.kind, 'end');
  });
}

test('keys only: random splits and byte by byte give the same events as whole', () => {
  for (const label of fixtureLabels()) {
    const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
    const whole = canonical(parseWhole(data, KEYS_ONLY));
    const rnd = prng(data.length);
    const cuts = Array.from({ length: 200 }, () => Math.floor(rnd() * data.length)).sort((a, b) => a - b);
    assert.equal(canonical(parseSplit(data, cuts, KEYS_ONLY)), whole, `${label} random cuts`);
    assert.equal(canonical(parseInSteps(data, 1, KEYS_ONLY)), whole, `${label} byte by byte`);
  }
});

test('keys only: third-party files, same keys as a full parse, split at every point (small files)', () => {
  for (const file of thirdPartyFiles()) {
    const name = basename(file);
    const data = readFileSync(file);
    if (name === 'corrupt_ziplist.rdb') {
      // its damage is inside a ziplist, which keys-only parsing does not open
      assert.throws(() => parseWhole(data), RdbError);
      continue;
    }
    assertSameKeys(data, name);
    const whole = canonical(parseWhole(data, KEYS_ONLY));
    if (data.length <= 4096) {
      for (let cut = 1; cut < data.length; cut++) {
        assert.equal(canonical(parseSplit(data, [cut], KEYS_ONLY)), whole, `${name} split at ${cut}`);
      }
    }
    assert.equal(canonical(parseInSteps(data, 1, KEYS_ONLY)), whole, `${name} byte by byte`);
  }
});

/**
 * An RDB 10 file with a 40 MiB raw string, a 200-node quicklist with 256 KiB nodes, a stream (RDB_TYPE_STREAM_LISTPACKS_3)
 * of 4 nodes of 1 MiB with a consumer group, a pending entry and a consumer, and a small key after them.
 */
function bigValues(): { data: Buffer; bigString: number } {
  const bigString = 40 << 20;
  const node = Buffer.alloc(256 << 10, 0x61);
  const body: Buffer[] = [u8(0xfe), len(0), u8(0)];
  body.push(str('big:string'), len(bigString), Buffer.alloc(bigString, 0x62));
  body.push(u8(18), str('big:list'), len(200));
  for (let i = 0; i < 200; i++) body.push(len(1), str(node)); // PLAIN nodes
  // Keys-only parsing skips a node's listpack by its length without looking inside: its bytes here are filler.
  const id = (ms: number, seq: number): Buffer => Buffer.concat([len(ms), len(seq)]);
  const rawId = Buffer.alloc(16, 0x01);
  body.push(u8(21), str('big:stream'), len(4));
  for (let i = 0; i < 4; i++) body.push(str(Buffer.alloc(16, i)), str(Buffer.alloc(1 << 20, 0x63)));
  body.push(len(400), id(1_700_000_000_000, 9), id(1_700_000_000_000, 0), id(0, 0), len(400));
  body.push(len(1), str('group'), id(1_700_000_000_000, 1), len(2), len(1), rawId, i64le(1_700_000_000_001), len(3));
  body.push(len(1), str('consumer'), i64le(1_700_000_000_002), i64le(1_700_000_000_003), len(1), rawId);
  body.push(u8(0), str('after'), str('v'));
  return { data: rdbFile('REDIS', 10, body), bigString };
}

test('keys only: values larger than the chunks are skipped as they arrive, never buffered', () => {
  const { data } = bigValues();
  const saved = Buffer.allocUnsafe;
  let largest = 0;
  Buffer.allocUnsafe = ((size: number) => {
    largest = Math.max(largest, size);
    return saved(size);
  }) as typeof Buffer.allocUnsafe;
  const keys: string[] = [];
  let checksum: unknown = undefined;
  try {
    const p = new RdbParser(KEYS_ONLY);
    const take = (events: RdbEvent[]) => {
      for (const e of events) {
        if (e.kind === 'key-start') keys.push(e.header.key.toString());
        if (e.kind === 'end') checksum = e.checksum;
      }
    };
    for (let off = 0; off < data.length; off += 65536) take(p.push(data.subarray(off, off + 65536)));
    take(p.end());
  } finally {
    Buffer.allocUnsafe = saved;
  }
  assert.deepEqual(keys, ['big:string', 'big:list', 'big:stream', 'after']);
  assert.ok(checksum !== null && typeof checksum === 'object', 'checksum verified');
  assert.ok(largest < 1 << 20, `largest allocation ${largest} bytes`);
});

test('keys only: the checksum is still verified and maxElementSize still applies', () => {
  const { data } = bigValues();
  const bad = Buffer.from(data);
  bad[bad.length - 20]! ^= 1; // inside the last key's value: only the CRC can tell
  assert.throws(
    () => parseWhole(bad, KEYS_ONLY),
    (e: unknown) => e instanceof RdbError && /checksum/.test(e.message),
  );
  assert.throws(
    () => parseWhole(data, { ...KEYS_ONLY, maxElementSize: 1 << 20 }),
    (e: unknown) => e instanceof RdbError && /exceeds maxElementSize/.test(e.message) && e.offset > 9,
  );
});

test('keys only: truncations and byte flips throw RdbError or parse, never hang', () => {
  const opts: RdbParserOptions = { ...KEYS_ONLY, verifyChecksum: false, maxElementSize: 4 << 20 };
  const rnd = prng(4242);
  for (const label of ['redis-7.4', 'redis-2.8', 'valkey-8.0']) {
    const data = readFileSync(join(rdbFixturesDir, `${label}.rdb`));
    const attempt = (bytes: Buffer, what: string, cuts: number[] = []): void => {
      const t0 = performance.now();
      try {
        parseSplit(bytes, cuts, opts);
      } catch (e) {
        if (!(e instanceof RdbError)) throw new Error(`${what}: ${String(e)}`, { cause: e });
        assert.ok(e.offset >= 0 && e.offset <= bytes.length, `${what}: offset ${e.offset}`);
      }
      assert.ok(performance.now() - t0 < 2000, `${what}: too slow`);
    };
    for (let i = 0; i < 300; i++) {
      const cut = Math.floor(rnd() * data.length);
      attempt(data.subarray(0, cut), `${label} truncated at ${cut}`);
    }
    for (let i = 0; i < 600; i++) {
      const bytes = Buffer.from(data);
      for (let f = 0; f < 3; f++) bytes[9 + Math.floor(rnd() * (bytes.length - 9))] = Math.floor(rnd() * 256);
      attempt(bytes, `${label} flips run ${i}`, [Math.floor(rnd() * bytes.length)]);
    }
  }
});

/** What a keys-only parse reports of each key: db, name, type byte, expiry, captured value (or null), as text. */
function keysOf(events: RdbEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.kind !== 'key-end') continue;
    const h = e.header;
    out.push(`${h.db} ${h.key.toString('hex')} ${h.rdbType} ${h.expireAtMs} ${e.raw ? e.raw.toString('hex') : null}`);
  }
  return out;
}

/** The same through keySink (each range copied during its call), pushed in pieces ending at `cuts`. */
function keysThroughSink(data: Buffer, cuts: number[], limit: number): { keys: string[]; other: RdbEvent[] } {
  const keys: string[] = [];
  let pending: string | null = null;
  const p = new RdbParser({
    ...KEYS_ONLY,
    captureRawLimit: limit,
    keySink: {
      key(buf, start, end, db, rdbType, expireAtMs) {
        assert.equal(pending, null, 'key() twice without value()');
        pending = `${db} ${buf.toString('hex', start, end)} ${rdbType} ${expireAtMs}`;
      },
      value(buf, start, end) {
        assert.notEqual(pending, null, 'value() without key()');
        keys.push(`${pending} ${buf ? buf.toString('hex', start, end) : null}`);
        pending = null;
      },
    },
  });
  const other: RdbEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut <= from) continue;
    other.push(...p.push(data.subarray(from, cut)));
    from = cut;
  }
  other.push(...p.end());
  assert.equal(pending, null, 'a key without its value');
  return { keys, other };
}

test('keySink: the same keys, types, expiries and captured values as key events, whole, split anywhere, byte by byte', () => {
  const files = [...fixtureLabels().map((l) => join(rdbFixturesDir, `${l}.rdb`)), ...thirdPartyFiles()];
  let keys = 0;
  for (const file of files) {
    const name = basename(file);
    if (name === 'corrupt_ziplist.rdb') continue; // only a full parse sees its damage (above)
    const data = readFileSync(file);
    // A small limit too: some values captured, some not.
    for (const limit of [1 << 20, 40]) {
      const events = parseWhole(data, { ...KEYS_ONLY, captureRawLimit: limit });
      const want = keysOf(events);
      const others = canonical(events.filter((e) => e.kind !== 'key-start' && e.kind !== 'key-end'));
      const whole = keysThroughSink(data, [], limit);
      assert.deepEqual(whole.keys, want, `${name} whole, limit ${limit}`);
      assert.equal(canonical(whole.other), others, `${name}: the other events`);
      const rnd = prng(data.length + limit);
      const cuts = Array.from({ length: 100 }, () => Math.floor(rnd() * data.length)).sort((a, b) => a - b);
      assert.deepEqual(keysThroughSink(data, cuts, limit).keys, want, `${name} random cuts, limit ${limit}`);
      if (data.length <= 200_000) {
        const steps = Array.from({ length: data.length }, (_, i) => i + 1);
        assert.deepEqual(keysThroughSink(data, steps, limit).keys, want, `${name} byte by byte, limit ${limit}`);
      }
      keys += want.length;
    }
  }
  assert.ok(keys > 1000, `keys compared: ${keys}`);
});

test('keySink: needs values: false', () => {
  assert.throws(() => new RdbParser({ keySink: { key() {}, value() {} } }), RangeError);
});
