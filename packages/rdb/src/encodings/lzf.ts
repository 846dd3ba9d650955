/**
 * LZF, the compression Redis applies to strings in RDB files (lzf_d.c / lzf_c.c, format by Marc Lehmann).
 *
 * Compressed stream, a sequence of:
 *   000LLLLL <L+1 literal bytes>
 *   LLLooooo oooooooo              back-reference: copy L+2 bytes from (current - o - 1)
 *   111ooooo LLLLLLLL oooooooo     back-reference: copy L+7+2 bytes
 */
import { RdbError } from '../errors.js';

/** Most output one input byte can yield: a 3-byte back-reference copies at most 7+255+2 = 264 bytes. */
const MAX_EXPANSION = 88;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);
const HLOG = 16;
const HSIZE = 1 << HLOG;

/**
 * Decompresses `src` (or its bytes `[start, end)`) into exactly `outLen` bytes. `outLen` is the cap: nothing
 * larger is ever allocated, and a declared length that the input cannot possibly produce is rejected before
 * allocating.
 * @throws RdbError (offset `baseOffset` + position from `start`) on corrupt data or when the output length differs.
 */
export function lzfDecompress(
  src: Uint8Array,
  outLen: number,
  baseOffset = 0,
  start = 0,
  end = src.length,
  /** Where to write: `outLen` bytes of `into` from `outAt` (a command being built); else a new Buffer. */
  into?: Buffer,
  outAt = 0,
): Buffer {
  const inLen = end - start;
  if (!Number.isSafeInteger(outLen) || outLen < 0) {
    throw new RdbError(`lzf declared length ${outLen} is not a valid length`, baseOffset);
  }
  if (outLen > inLen * MAX_EXPANSION) {
    throw new RdbError(`lzf declared length ${outLen} is impossible for ${inLen} compressed bytes`, baseOffset);
  }
  if (into !== undefined && outAt + outLen > into.length) {
    throw new RangeError(`lzf output of ${outLen} bytes at ${outAt} of a ${into.length}-byte buffer`);
  }
  const out = into ?? Buffer.allocUnsafe(outLen);
  const o0 = into === undefined ? 0 : outAt;
  const oEnd = o0 + outLen;
  const base = baseOffset - start;
  let ip = start;
  let op = o0;
  while (ip < end) {
    const at = ip;
    const ctrl = src[ip++]!;
    if (ctrl < MAX_LIT) {
      const n = ctrl + 1;
      if (ip + n > end) {
        throw new RdbError(`lzf literal run of ${n} bytes runs past the end of the input`, base + at);
      }
      if (op + n > oEnd) {
        throw new RdbError(`lzf literal run of ${n} bytes runs past the declared length ${outLen}`, base + at);
      }
      // at most 32 bytes: a loop beats the native copy's fixed cost
      for (const stop = ip + n; ip < stop;) out[op++] = src[ip++]!;
    } else {
      let len = ctrl >>> 5;
      if (len === 7) {
        if (ip >= end) throw new RdbError('lzf back-reference is truncated', base + at);
        len += src[ip++]!;
      }
      if (ip >= end) throw new RdbError('lzf back-reference is truncated', base + at);
      let ref = op - ((ctrl & 0x1f) << 8) - 1 - src[ip++]!;
      len += 2;
      if (op + len > oEnd) {
        throw new RdbError(`lzf back-reference of ${len} bytes runs past the declared length ${outLen}`, base + at);
      }
      if (ref < o0) throw new RdbError('lzf back-reference before start', base + at);
      if (len < 64 || ref + len > op) {
        // Short, or overlapping (a repeated pattern): byte by byte, forwards.
        for (const stop = op + len; op < stop;) out[op++] = out[ref++]!;
      } else {
        out.copyWithin(op, ref, ref + len);
        op += len;
      }
    }
  }
  if (op !== oEnd) {
    throw new RdbError(`lzf data decompresses to ${op - o0} bytes, declared length is ${outLen}`, base + end);
  }
  return out;
}

let htab: Int32Array | undefined;

function hashIndex(h: number): number {
  // lzf_c.c IDX() with VERY_FAST, on unsigned 32-bit arithmetic.
  return ((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) & (HSIZE - 1);
}

/**
 * Compresses `src` the way Redis's lzf_compress does (liblzf 3.6 as vendored in Redis since 2.8/3.0: same hash,
 * same match rules, so the same bytes).
 * Returns null when the result would not fit in `maxOut` bytes. The default, `src.length - 4`, is the rule of
 * rdbSaveLzfStringObject: Redis stores a string as LZF only when that saves at least 4 bytes
 * (and, in rdbSaveRawString, only for strings longer than 20 bytes: that check is the caller's).
 */
export function lzfCompress(src: Buffer, maxOut: number = src.length - 4): Buffer | null {
  const inEnd = src.length;
  if (inEnd === 0 || maxOut <= 0) return null;
  const table = (htab ??= new Int32Array(HSIZE));
  // Every slot "null": off = ip - ref - 1 below never passes with ref < 1 (lzf_c.c requires ref > in_data).
  table.fill(-1);
  const outEnd = maxOut;
  const out = Buffer.allocUnsafe(outEnd + 4);
  let ip = 0;
  let op = 1; // start run: out[op - lit - 1] is the pending literal header
  let lit = 0;
  let hval = ((src[0]! << 8) | (src[1] ?? 0)) >>> 0;
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | src[ip + 2]!) >>> 0;
    const slot = hashIndex(hval);
    const ref = table[slot]!;
    table[slot] = ip;
    const off = ip - ref - 1;
    if (
      ref < ip &&
      off < MAX_OFF &&
      ref > 0 &&
      src[ref] === src[ip] &&
      src[ref + 1] === src[ip + 1] &&
      src[ref + 2] === src[ip + 2]
    ) {
      let len = 2;
      const maxlen = Math.min(inEnd - ip - len, MAX_REF);
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return null;
      out[op - lit - 1] = (lit - 1) & 0xff; // stop run
      if (lit === 0) op--; // undo run if length is zero
      scan: {
        if (maxlen > 16) {
          for (let k = 0; k < 16; k++) {
            len++;
            if (src[ref + len] !== src[ip + len]) break scan;
          }
        }
        do len++;
        while (len < maxlen && src[ref + len] === src[ip + len]);
      }
      len -= 2; // #octets - 1
      ip++;
      if (len < 7) {
        out[op++] = (off >>> 8) + (len << 5);
      } else {
        out[op++] = (off >>> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start run
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      // VERY_FAST: rehash the last two positions of the match.
      ip -= 2;
      hval = ((src[ip]! << 8) | src[ip + 1]!) >>> 0;
      hval = ((hval << 8) | src[ip + 2]!) >>> 0;
      table[hashIndex(hval)] = ip;
      ip++;
      hval = ((hval << 8) | src[ip + 2]!) >>> 0;
      table[hashIndex(hval)] = ip;
      ip++;
    } else {
      if (op >= outEnd) return null;
      lit++;
      out[op++] = src[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1; // stop run
        lit = 0;
        op++; // start run
      }
    }
  }
  if (op + 3 > outEnd) return null; // at most 3 bytes can be missing here
  while (ip < inEnd) {
    lit++;
    out[op++] = src[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = (lit - 1) & 0xff; // end run
  if (lit === 0) op--; // undo run if length is zero
  return Buffer.from(out.subarray(0, op));
}
