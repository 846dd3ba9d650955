/**
 * Test helpers for the encodings: just enough RDB string/length reading to pull the raw listpack, ziplist,
 * intset, zipmap and LZF blobs out of real DUMP payloads, a DUMP payload builder for RESTORE, a seeded PRNG
 * and a fuzz loop.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RdbError, lzfDecompress } from '@shake/rdb';
import { prng } from '../../helpers/prng.js';
import { dumpPayload } from '../parser/build.js';

/** Repo root (this file runs from dist/test/rdb/encodings). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const fixturesDir = join(repoRoot, '..', 'shared', 'fixtures');

/**
 * An assertion for a decoder's structure checks: `rejects(buf, /what/, offset)` passes when decoding `buf`
 * (placed at byte `base` of its file) throws an RdbError whose message matches and whose offset is `offset`.
 */
export function rejectsWith(
  decode: (buf: Buffer, base: number) => unknown,
  base: number,
): (buf: Buffer, re: RegExp, offset: number) => void {
  return (buf, re, offset) => {
    assert.throws(
      () => decode(buf, base),
      (e: unknown) => e instanceof RdbError && re.test(e.message) && e.offset === offset,
      re.source,
    );
  };
}

export interface Cursor {
  buf: Buffer;
  pos: number;
}

/** rdbLoadLen: returns the length, or -1-enc for an RDB_ENCVAL byte (enc in 0..3). */
export function readLen(c: Cursor): number {
  const b = c.buf[c.pos++]!;
  switch (b >> 6) {
    case 0:
      return b & 0x3f;
    case 1:
      return ((b & 0x3f) << 8) | c.buf[c.pos++]!;
    case 2: {
      if (b === 0x80) {
        const v = c.buf.readUInt32BE(c.pos);
        c.pos += 4;
        return v;
      }
      if (b !== 0x81) throw new Error(`bad length byte 0x${b.toString(16)}`);
      const v = Number(c.buf.readBigUInt64BE(c.pos));
      c.pos += 8;
      return v;
    }
    default:
      return -1 - (b & 0x3f);
  }
}

/** The raw stored kind of an RDB string: 'lzf' when it was LZF-compressed (with the compressed bytes). */
export interface RdbStringInfo {
  value: Buffer;
  lzf?: { compressed: Buffer; len: number };
}

/** rdbGenericLoadStringObject: plain, int-encoded (rendered as decimal) or LZF. */
export function readStringInfo(c: Cursor): RdbStringInfo {
  const len = readLen(c);
  if (len >= 0) {
    const value = c.buf.subarray(c.pos, c.pos + len);
    c.pos += len;
    return { value };
  }
  const enc = -1 - len;
  if (enc === 0) return { value: Buffer.from(String(c.buf.readInt8(c.pos++))) };
  if (enc === 1) {
    const v = c.buf.readInt16LE(c.pos);
    c.pos += 2;
    return { value: Buffer.from(String(v)) };
  }
  if (enc === 2) {
    const v = c.buf.readInt32LE(c.pos);
    c.pos += 4;
    return { value: Buffer.from(String(v)) };
  }
  if (enc !== 3) throw new Error(`bad string encoding ${enc}`);
  const clen = readLen(c);
  const ulen = readLen(c);
  const compressed = c.buf.subarray(c.pos, c.pos + clen);
  const at = c.pos;
  c.pos += clen;
  return { value: lzfDecompress(compressed, ulen, at), lzf: { compressed, len: ulen } };
}

export function readString(c: Cursor): Buffer {
  return readStringInfo(c).value;
}

/** The one RDB byte builder of the tests (rdbSaveLen, raw strings, DUMP payloads): test/rdb/parser/build.ts. */
export { len as encodeLen, str as encodeString } from '../parser/build.js';

/** type byte + value + RDB version (2 bytes LE) + crc64 LE of all that: a DUMP payload. */
export function buildDump(type: number, value: Buffer, rdbVersion = 10): Buffer {
  return dumpPayload(type, value, rdbVersion);
}

/** Splits a DUMP payload into type, value bytes (cursor), version and stored crc. */
export function splitDump(payload: Buffer): { type: number; value: Cursor; version: number; crc: bigint } {
  const n = payload.length;
  return {
    type: payload[0]!,
    value: { buf: payload.subarray(0, n - 10), pos: 1 },
    version: payload.readUInt16LE(n - 10),
    crc: payload.readBigUInt64LE(n - 8),
  };
}

export { prng };

export function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

/**
 * Runs `decode` over every strict prefix of `blob` (when `prefixesMustFail`, each must throw RdbError) and
 * over `flips` copies with 1-3 random bytes changed: the only exception allowed is RdbError, and an
 * RdbError's offset must lie inside [base, base + blob.length]. Returns how many inputs were rejected.
 */
export function fuzz(
  blob: Buffer,
  decode: (b: Buffer, base: number) => unknown,
  opts: { seed: number; flips: number; prefixesMustFail: boolean },
): number {
  const rnd = prng(opts.seed);
  const base = 1000;
  let rejected = 0;
  const check = (input: Buffer, mustFail: boolean, what: string): void => {
    try {
      decode(input, base);
      assert.ok(!mustFail, `${what} was accepted`);
    } catch (e) {
      if (!(e instanceof RdbError)) throw new Error(`${what}: threw ${String(e)}`, { cause: e });
      assert.ok(e.offset >= base && e.offset <= base + blob.length, `${what}: offset ${e.offset} out of range`);
      rejected++;
    }
  };
  for (let n = 0; n < blob.length; n++) check(blob.subarray(0, n), opts.prefixesMustFail, `prefix of ${n} bytes`);
  for (let i = 0; i < opts.flips; i++) {
    const copy = Buffer.from(blob);
    const k = 1 + ((rnd() * 3) | 0);
    for (let j = 0; j < k; j++) copy[(rnd() * copy.length) | 0] = (rnd() * 256) | 0;
    check(copy, false, `flip #${i}`);
  }
  return rejected;
}

/** Buffers as strings (latin1) for readable assertion diffs. */
/**
 * A small zset as ziplist/listpack items (member, score alternating; scores as an int of each width, a float
 * text and `big`) and what ZRANGE ... WITHSCORES answers for it once Redis has loaded it.
 */
export function zsetSample(big: number): { items: (Buffer | number | bigint)[]; withScores: string[] } {
  const items = [
    Buffer.from('a'),
    -5,
    Buffer.from('b'),
    Buffer.from('1.5'),
    Buffer.from('c'),
    7n,
    Buffer.from('d'),
    big,
  ];
  return { items, withScores: ['a', '-5', 'b', '1.5', 'c', '7', 'd', String(big)] };
}

export function strs(list: readonly Buffer[]): string[] {
  return list.map((b) => b.toString('latin1'));
}

/** Reads a key's DUMP payload and returns the decoded container blob of the value (type + blob). */
export function dumpBlob(payload: Buffer): { type: number; blob: Buffer; lzf: boolean } {
  const d = splitDump(payload);
  const info = readStringInfo(d.value);
  return { type: d.type, blob: info.value, lzf: info.lzf !== undefined };
}
