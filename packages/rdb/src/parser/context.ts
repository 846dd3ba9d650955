/**
 * What a value decoder sees of the parser, and the contract every value decoder keeps.
 */
import type { KeyHeader, RdbEvent } from '../types.js';
import type { Cursor } from './cursor.js';

export interface DecodeContext {
  readonly cur: Cursor;
  readonly batchSize: number;
  emit(event: RdbEvent): void;
}

/**
 * Reads one key's value. Each read unit (one element, one node, one PEL entry...) does all its reads
 * first and only then changes state, emits, and commits (`cur.mark = cur.pos`): a unit interrupted by
 * NEED_MORE is simply read again from its start.
 */
export interface ValueDecoder {
  /**
   * Read what comes before the elements: counts, a min-expire, or a whole single-blob value. Runs in the
   * same unit as the key name, so it must not emit. Returns the element count when the format states it.
   */
  begin(header: KeyHeader): number | undefined;
  /** Read and emit units until the value is complete. Throws NEED_MORE (after committing) when starved. */
  step(): void;
  /** The value's serialized bytes when the decoder captured them itself (module values). */
  readonly captured?: Buffer | null;
}

/** 10^0 .. 10^15, all exact doubles. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * `[-]digits[.digits]` with at most 15 digits in all, without making a string: the digits form an exact
 * integer m < 2^53 and 10^k is exact, so m / 10^k is the correctly rounded value, as Number() and strtod
 * give (Clinger's fast path). NaN when the text has another form (the caller then takes the slow path).
 */
function simpleDecimal(b: Buffer): number {
  const n = b.length;
  let i = 0;
  let neg = false;
  if (b[0] === 0x2d) {
    neg = true;
    i = 1;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 0x2e && frac < 0) {
      frac = 0;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  const v = frac > 0 ? m / POW10[frac]! : m;
  return neg ? -v : v;
}

/** A zset score as Redis's strtod reads it: decimal or integer text, "inf"/"-inf"/"nan" in any case. */
export function parseScore(b: Buffer): number {
  if (b.length > 0 && b.length <= 17) {
    const v = simpleDecimal(b);
    if (!Number.isNaN(v)) return v;
  }
  const s = b.toString('latin1');
  const n = Number(s);
  if (!Number.isNaN(n) && s.length > 0) return n;
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  return NaN;
}

/** A decimal integer as a decoded listpack/ziplist entry spells it, or null when it is not one. */
export function entryInt(b: Buffer): number | null {
  const len = b.length;
  if (len === 0 || len > 16) return null;
  let i = 0;
  let neg = false;
  if (b[0] === 0x2d) {
    neg = true;
    i = 1;
    if (len === 1) return null;
  }
  let v = 0;
  for (; i < len; i++) {
    const c = b[i]! - 0x30;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

/** Like entryInt but for any int64 (stream id deltas), as a bigint, or null. */
export function entryBigInt(b: Buffer): bigint | null {
  const small = entryInt(b);
  if (small !== null) return BigInt(small);
  const len = b.length;
  if (len === 0 || len > 20) return null;
  for (let i = b[0] === 0x2d ? 1 : 0; i < len; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return null;
  }
  if (len === 1 && b[0] === 0x2d) return null;
  return BigInt(b.toString('latin1'));
}
