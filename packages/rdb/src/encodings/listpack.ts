/**
 * Listpack (listpack.c), the compact container of Redis 7+ hashes, zsets, sets, lists and streams.
 *
 *   <total-bytes u32le> <num-elements u16le, 65535 = unknown> <entry>... <0xFF>
 *   entry = <encoding + data> <backlen: size of encoding + data, 1-5 bytes, read right to left>
 *
 * Encoding byte:
 *   0xxxxxxx 7-bit uint        10LLLLLL 6-bit-length str   110xxxxx +1 byte: 13-bit int
 *   1110LLLL +1 byte: 12-bit-length str   0xF0 +4: 32-bit-length str
 *   0xF1 int16   0xF2 int24   0xF3 int32   0xF4 int64 (all little-endian)   0xFF end
 */
import { RdbError } from '../errors.js';
import { formatInt, formatInt64LE, parseCanonicalInt, parseCanonicalSafeInt } from './int-string.js';

const LP_HDR_SIZE = 6;
const LP_EOF = 0xff;
const LP_NUMELE_UNKNOWN = 0xffff;

/** Bytes lpEncodeBacklen uses for an entry of `l` bytes (its own boundaries, off-by-one included). */
function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Writes the backlen of `l` at `buf[pos]`, returns its size. */
function writeBacklen(buf: Buffer, pos: number, l: number): number {
  const n = backlenSize(l);
  // Most significant 7-bit group first, without the continuation bit; every later byte has 0x80 set.
  for (let i = n - 1, v = l; i >= 0; i--, v = Math.floor(v / 128)) {
    buf[pos + i] = i === 0 ? v & 127 : (v & 127) | 128;
  }
  return n;
}

/** True when `buf[pos, pos + n)` is exactly the backlen Redis writes for an entry of `l` bytes. */
function backlenMatches(buf: Buffer, pos: number, n: number, l: number): boolean {
  for (let i = n - 1, v = l; i >= 0; i--, v = Math.floor(v / 128)) {
    const want = i === 0 ? v & 127 : (v & 127) | 128;
    if (buf[pos + i] !== want) return false;
  }
  return true;
}

/**
 * Every entry of a listpack, in order: strings as views into `buf`, integers as decimal ASCII.
 * Validates like lpValidateIntegrity(deep): header size, terminator, each entry inside the blob, backlen, count.
 * @throws RdbError with offset `baseOffset` + position in `buf`.
 */
export function decodeListpack(buf: Buffer, baseOffset = 0): Buffer[] {
  const size = buf.length;
  if (size < LP_HDR_SIZE + 1) {
    throw new RdbError(`listpack of ${size} bytes is shorter than its 7-byte minimum`, baseOffset);
  }
  const total = buf.readUInt32LE(0);
  if (total !== size) throw new RdbError(`listpack header says ${total} bytes, blob has ${size}`, baseOffset);
  const end = size - 1;
  if (buf[end] !== LP_EOF) throw new RdbError('listpack does not end with 0xFF', baseOffset + end);
  const numele = buf.readUInt16LE(4);
  const out: Buffer[] = [];
  let p = LP_HDR_SIZE;
  while (p < end) {
    const b = buf[p]!;
    let enclen: number; // encoding byte(s) + data
    let item: Buffer;
    if (b < 0x80) {
      enclen = 1;
      item = formatInt(b);
    } else if (b < 0xc0) {
      enclen = 1 + (b & 0x3f);
      if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
      item = buf.subarray(p + 1, p + enclen);
    } else if (b < 0xe0) {
      enclen = 2;
      if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
      const u = ((b & 0x1f) << 8) | buf[p + 1]!;
      item = formatInt(u >= 4096 ? u - 8192 : u);
    } else if (b < 0xf0) {
      if (p + 2 > end) throw pastEnd('listpack', p, 2, baseOffset);
      enclen = 2 + (((b & 0x0f) << 8) | buf[p + 1]!);
      if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
      item = buf.subarray(p + 2, p + enclen);
    } else {
      switch (b) {
        case 0xf0:
          if (p + 5 > end) throw pastEnd('listpack', p, 5, baseOffset);
          enclen = 5 + buf.readUInt32LE(p + 1);
          if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
          item = buf.subarray(p + 5, p + enclen);
          break;
        case 0xf1:
          enclen = 3;
          if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
          item = formatInt(buf.readInt16LE(p + 1));
          break;
        case 0xf2:
          enclen = 4;
          if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
          item = formatInt(buf.readIntLE(p + 1, 3));
          break;
        case 0xf3:
          enclen = 5;
          if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
          item = formatInt(buf.readInt32LE(p + 1));
          break;
        case 0xf4:
          enclen = 9;
          if (p + enclen > end) throw pastEnd('listpack', p, enclen, baseOffset);
          item = formatInt64LE(buf, p + 1);
          break;
        case LP_EOF:
          throw new RdbError(`listpack terminator 0xFF at ${p}, before the end (${end})`, baseOffset + p);
        default:
          throw new RdbError(`listpack entry at ${p} has invalid encoding byte 0x${b.toString(16)}`, baseOffset + p);
      }
    }
    const bl = enclen <= 127 ? 1 : backlenSize(enclen);
    const next = p + enclen + bl;
    if (next > end) throw pastEnd('listpack', p, enclen + bl, baseOffset);
    if (bl === 1 ? buf[p + enclen] !== enclen : !backlenMatches(buf, p + enclen, bl, enclen)) {
      throw new RdbError(`listpack entry at ${p} has a backlen that does not match its size ${enclen}`, baseOffset + p);
    }
    out.push(item);
    p = next;
  }
  if (numele !== LP_NUMELE_UNKNOWN && numele !== out.length) {
    throw new RdbError(`listpack header says ${numele} entries, found ${out.length}`, baseOffset + 4);
  }
  return out;
}

function pastEnd(what: string, p: number, len: number, baseOffset: number): RdbError {
  return new RdbError(`${what} entry at ${p} runs past the end (len ${len})`, baseOffset + p);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Size of the encoding + data of integer `v` (lpEncodeIntegerGetType). */
function intEncLen(v: number | bigint): number {
  if (typeof v === 'bigint') return 9;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

function strEncLen(len: number): number {
  if (len < 64) return 1 + len;
  if (len < 4096) return 2 + len;
  return 5 + len;
}

/** The integer an item is stored as, or null when it is stored as a string (lpEncodeGetType's choice). */
function asInteger(item: Buffer | number | bigint, index: number): number | bigint | null {
  if (typeof item === 'number') {
    if (!Number.isSafeInteger(item)) throw new RdbError(`listpack item ${index}: ${item} is not a safe integer`, 0);
    return item;
  }
  if (typeof item === 'bigint') {
    if (item < INT64_MIN || item > INT64_MAX) throw new RdbError(`listpack item ${index}: ${item} exceeds int64`, 0);
    return item >= -9007199254740991n && item <= 9007199254740991n ? Number(item) : item;
  }
  const n = parseCanonicalSafeInt(item);
  if (n !== null) return n;
  if (item.length < 16) return null;
  const big = parseCanonicalInt(item);
  if (big === null) return null;
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/**
 * Builds a listpack holding `items` in order, byte for byte as lpAppend would: Buffers that spell a canonical
 * int64 (see parseCanonicalInt) and numbers/bigints become integer entries in the smallest encoding.
 */
export function encodeListpack(items: ReadonlyArray<Buffer | number | bigint>): Buffer {
  const n = items.length;
  const ints: (number | bigint | null)[] = new Array<number | bigint | null>(n);
  let total = LP_HDR_SIZE + 1;
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    const v = asInteger(item, i);
    ints[i] = v;
    const enclen = v !== null ? intEncLen(v) : strEncLen((item as Buffer).length);
    total += enclen + backlenSize(enclen);
  }
  if (total > 0xffffffff) throw new RdbError(`listpack would be ${total} bytes, more than 2^32-1`, 0);
  const buf = Buffer.allocUnsafe(total);
  buf.writeUInt32LE(total, 0);
  buf.writeUInt16LE(n < LP_NUMELE_UNKNOWN ? n : LP_NUMELE_UNKNOWN, 4);
  let p = LP_HDR_SIZE;
  for (let i = 0; i < n; i++) {
    const v = ints[i]!;
    const start = p;
    if (v === null) {
      const s = items[i] as Buffer;
      const len = s.length;
      if (len < 64) {
        buf[p++] = 0x80 | len;
      } else if (len < 4096) {
        buf[p++] = 0xe0 | (len >>> 8);
        buf[p++] = len & 0xff;
      } else {
        buf[p++] = 0xf0;
        buf.writeUInt32LE(len, p);
        p += 4;
      }
      s.copy(buf, p);
      p += len;
    } else if (typeof v === 'bigint') {
      buf[p++] = 0xf4;
      buf.writeBigInt64LE(v, p);
      p += 8;
    } else {
      switch (intEncLen(v)) {
        case 1:
          buf[p++] = v;
          break;
        case 2: {
          const u = v < 0 ? v + 8192 : v;
          buf[p++] = 0xc0 | (u >>> 8);
          buf[p++] = u & 0xff;
          break;
        }
        case 3:
          buf[p++] = 0xf1;
          buf.writeInt16LE(v, p);
          p += 2;
          break;
        case 4:
          buf[p++] = 0xf2;
          buf.writeIntLE(v, p, 3);
          p += 3;
          break;
        case 5:
          buf[p++] = 0xf3;
          buf.writeInt32LE(v, p);
          p += 4;
          break;
        default:
          buf[p++] = 0xf4;
          buf.writeBigInt64LE(BigInt(v), p);
          p += 8;
      }
    }
    p += writeBacklen(buf, p, p - start);
  }
  buf[p] = LP_EOF;
  return buf;
}
