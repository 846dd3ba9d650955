/**
 * Hostile input: thousands of truncations and random byte changes of real RDB files and DUMP payloads.
 * The parser may accept the bytes or throw RdbError (with a sane offset) and nothing else; it never
 * hangs (each run is timed) and never allocates beyond its limits (Buffer allocations are watched).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RdbError, RdbParser, crc64, parseDumpPayload, type RdbParserOptions } from '@shake/rdb';
import { fixtureLabels, prng, rdbFixturesDir, thirdPartyFiles } from './util.js';

const MAX_ELEMENT = 4 << 20;
const fuzzOpts: RdbParserOptions = { verifyChecksum: false, maxElementSize: MAX_ELEMENT, captureRawLimit: 4096 };
const PER_RUN_MS = 2000;

/** Largest Buffer allocation requested while `fn` runs. */
function watchAllocations<T>(fn: () => T): { result: T; largest: number } {
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  let largest = 0;
  const note = (n: number): void => {
    if (n > largest) largest = n;
  };
  Buffer.alloc = ((size: number, ...rest: unknown[]) => {
    note(size);
    return (saved.alloc as (...a: unknown[]) => Buffer)(size, ...rest);
  }) as typeof Buffer.alloc;
  Buffer.allocUnsafe = ((size: number) => {
    note(size);
    return saved.allocUnsafe(size);
  }) as typeof Buffer.allocUnsafe;
  Buffer.allocUnsafeSlow = ((size: number) => {
    note(size);
    return saved.allocUnsafeSlow(size);
  }) as typeof Buffer.allocUnsafeSlow;
  try {
    return { result: fn(), largest };
  } finally {
    Object.assign(Buffer, saved);
  }
}

type Outcome = 'ok' | 'rdb-error';

/** Parse in the given pieces; only RdbError may escape, within the time budget. */
function attempt(data: Buffer, cuts: number[], what: string): Outcome {
  const t0 = performance.now();
  let outcome: Outcome = 'ok';
  try {
    const p = new RdbParser(fuzzOpts);
    let from = 0;
    for (const cut of [...cuts, data.length]) {
      if (cut <= from) continue;
      p.push(data.subarray(from, cut));
      from = cut;
    }
    p.end();
  } catch (e) {
    if (!(e instanceof RdbError)) {
      throw new Error(`${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
    }
    assert.ok(
      Number.isSafeInteger(e.offset) && e.offset >= 0 && e.offset <= data.length,
      `${what}: offset ${e.offset}`,
    );
    assert.ok(e.describe().length > 0);
    outcome = 'rdb-error';
  }
  const ms = performance.now() - t0;
  assert.ok(ms < PER_RUN_MS, `${what}: took ${ms.toFixed(0)} ms`);
  return outcome;
}

function mutate(data: Buffer, rnd: () => number): { bytes: Buffer; desc: string } {
  const out = Buffer.from(data);
  const flips = 1 + Math.floor(rnd() * 3);
  const desc: string[] = [];
  for (let i = 0; i < flips; i++) {
    // Mostly past the header: a broken header is one code path, the body is where the variety is.
    const at = 9 + Math.floor(rnd() * Math.max(1, out.length - 9));
    const mode = rnd();
    const v =
      mode < 0.3
        ? 0xff
        : mode < 0.45
          ? 0
          : mode < 0.6
            ? out[at]! ^ (1 << Math.floor(rnd() * 8))
            : Math.floor(rnd() * 256);
    out[at] = v;
    desc.push(`${at}=0x${v.toString(16)}`);
  }
  return { bytes: out, desc: desc.join(',') };
}

function randomCuts(len: number, rnd: () => number): number[] {
  if (rnd() < 0.5) return [];
  return Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => Math.floor(rnd() * len)).sort((a, b) => a - b);
}

interface Corpus {
  name: string;
  data: Buffer;
  runs: number;
}

function corpus(): Corpus[] {
  const out: Corpus[] = thirdPartyFiles().map((f) => ({ name: basename(f), data: readFileSync(f), runs: 120 }));
  for (const label of fixtureLabels()) {
    out.push({ name: label, data: readFileSync(join(rdbFixturesDir, `${label}.rdb`)), runs: 40 });
  }
  return out;
}

test('random byte changes: accepted or RdbError, bounded time and allocations', { timeout: 120_000 }, () => {
  let runs = 0;
  let errors = 0;
  let largest = 0;
  for (const c of corpus()) {
    const rnd = prng(c.data.length * 31 + c.name.length);
    for (let i = 0; i < c.runs; i++) {
      const { bytes, desc } = mutate(c.data, rnd);
      const cuts = randomCuts(bytes.length, rnd);
      const { result, largest: big } = watchAllocations(() =>
        attempt(bytes, cuts, `${c.name} flip ${desc} cuts ${cuts}`),
      );
      largest = Math.max(largest, big);
      runs++;
      if (result === 'rdb-error') errors++;
    }
  }
  assert.ok(runs >= 3000, `runs ${runs}`);
  assert.ok(errors > runs / 4, `most changes are noticed (${errors}/${runs})`);
  assert.ok(largest <= 2 * MAX_ELEMENT, `largest allocation ${largest}`);
});

test('every truncation of small files and random truncations of big ones: RdbError', { timeout: 120_000 }, () => {
  let runs = 0;
  for (const c of corpus()) {
    const rnd = prng(c.data.length);
    // Where the RDB ends (some files carry trailing bytes after the checksum).
    let rdbEnd = c.data.length;
    try {
      const probe = new RdbParser(fuzzOpts);
      probe.push(c.data);
      rdbEnd = probe.offset;
    } catch {
      // corrupt_ziplist.rdb: every truncation is an error too
    }
    const lengths =
      rdbEnd <= 2048 ? [...Array(rdbEnd).keys()] : Array.from({ length: 40 }, () => Math.floor(rnd() * rdbEnd));
    for (const len of lengths) {
      const part = c.data.subarray(0, len);
      const outcome = attempt(part, randomCuts(len, rnd), `${c.name} truncated to ${len}`);
      assert.equal(outcome, 'rdb-error', `${c.name} truncated to ${len} must be an error`);
      runs++;
    }
  }
  assert.ok(runs >= 3000, `runs ${runs}`);
});

test('unexpected end of file says where', () => {
  const data = readFileSync(join(rdbFixturesDir, 'redis-7.2.rdb'));
  const p = new RdbParser();
  p.push(data.subarray(0, 5000));
  assert.throws(
    () => p.end(),
    (e: unknown) => e instanceof RdbError && /unexpected end of file/.test(e.message) && e.offset === 5000,
  );
  assert.throws(() => p.push(Buffer.from([0])), RdbError, 'a failed parser stays failed');
});

test('hostile lengths are refused before allocating', () => {
  const header = Buffer.from('REDIS0011', 'latin1');
  const cases: [string, Buffer][] = [
    // a 3 GiB string value
    ['huge string', Buffer.from([0x00, 0x01, 0x6b, 0x80, 0xc0, 0x00, 0x00, 0x00])],
    // an LZF string claiming 2 GiB uncompressed from 10 bytes
    [
      'lzf bomb',
      Buffer.from([0x00, 0x01, 0x6b, 0xc3, 0x0a, 0x80, 0x80, 0x00, 0x00, 0x00, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ],
    // a 64-bit length beyond 2^53
    ['2^60 length', Buffer.from([0x00, 0x81, 0x10, 0, 0, 0, 0, 0, 0, 0])],
    // an unknown type byte
    ['type 99', Buffer.from([99, 0x01, 0x6b])],
    // a stream node key that is not 16 bytes
    ['stream node key', Buffer.from([21, 0x01, 0x6b, 0x01, 0x03, 0x61, 0x62, 0x63])],
  ];
  for (const [what, body] of cases) {
    const { result, largest } = watchAllocations(() =>
      assert.throws(() => {
        const p = new RdbParser({ maxElementSize: 1 << 20 });
        p.push(Buffer.concat([header, body]));
        p.end();
      }, RdbError),
    );
    void result;
    assert.ok(largest < 1 << 20, `${what}: allocated ${largest}`);
  }
});

test('DUMP payloads with random changes: accepted or RdbError', () => {
  // Payloads built from the values of a real file: type byte + captured value + version + CRC64.
  const data = readFileSync(join(rdbFixturesDir, 'redis-7.4.rdb'));
  const p = new RdbParser({ captureRawLimit: 1 << 20 });
  const payloads: Buffer[] = [];
  for (const e of [...p.push(data), ...p.end()]) {
    if (e.kind !== 'key-end' || !e.raw) continue;
    const body = Buffer.concat([Buffer.from([e.header.rdbType]), e.raw, Buffer.from([12, 0])]);
    const crc = Buffer.alloc(8);
    crc.writeBigUInt64LE(crc64(body));
    payloads.push(Buffer.concat([body, crc]));
  }
  assert.ok(payloads.length > 100);
  for (const payload of payloads) parseDumpPayload(payload);
  const rnd = prng(7);
  let runs = 0;
  for (let i = 0; i < 1000; i++) {
    const base = payloads[Math.floor(rnd() * payloads.length)]!;
    const bytes = Buffer.from(base);
    const at = Math.floor(rnd() * (bytes.length - 10));
    bytes[at] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.2 ? Math.floor(rnd() * bytes.length) : bytes.length;
    try {
      parseDumpPayload(bytes.subarray(0, cut), { verifyChecksum: false, maxElementSize: MAX_ELEMENT });
    } catch (e) {
      if (!(e instanceof RdbError)) throw new Error(`payload flip at ${at}: ${(e as Error).message}`, { cause: e });
    }
    runs++;
  }
  assert.equal(runs, 1000);
});
