/**
 * Ziplist (ziplist.c), the compact container of Redis 2.6-6.2 lists, hashes and zsets.
 *
 *   <zlbytes u32le> <zltail u32le> <zllen u16le, 65535 = unknown> <entry>... <0xFF>
 *   entry = <prevlen: 1 byte < 254, or 0xFE + u32le> <encoding> <data>
 *
 * Encoding:
 *   00LLLLLL str, 6-bit length   01LLLLLL +1 byte: 14-bit length (big-endian)   10______ +4 bytes: 32-bit BE length
 *   0xC0 int16   0xD0 int32   0xE0 int64   0xF0 int24   0xFE int8 (little-endian)   0xF1..0xFD immediate 0..12
 */
import { RdbError } from '../errors.js';
import { formatInt, formatInt64LE, parseCanonicalInt, parseCanonicalSafeInt } from './int-string.js';

const ZIPLIST_HEADER_SIZE = 10;
const ZIP_END = 0xff;
const ZIP_BIG_PREVLEN = 0xfe;
const ZIPLIST_LEN_UNKNOWN = 0xffff;

/**
 * Every entry of a ziplist, in order: strings as views into `buf`, integers as decimal ASCII.
 * Validates like ziplistValidateIntegrity(deep): header size and tail offset, terminator, each entry inside
 * the blob, each prevlen equal to the previous entry's size, count.
 * @throws RdbError with offset `baseOffset` + position in `buf`.
 */
export function decodeZiplist(buf: Buffer, baseOffset = 0): Buffer[] {
  const size = buf.length;
  if (size < ZIPLIST_HEADER_SIZE + 1) {
    throw new RdbError(`ziplist of ${size} bytes is shorter than its 11-byte minimum`, baseOffset);
  }
  const total = buf.readUInt32LE(0);
  if (total !== size) throw new RdbError(`ziplist header says ${total} bytes, blob has ${size}`, baseOffset);
  const end = size - 1;
  if (buf[end] !== ZIP_END) throw new RdbError('ziplist does not end with 0xFF', baseOffset + end);
  const tail = buf.readUInt32LE(4);
  if (tail > end) throw new RdbError(`ziplist tail offset ${tail} is past the end (${end})`, baseOffset + 4);
  const count = buf.readUInt16LE(8);
  const out: Buffer[] = [];
  let p = ZIPLIST_HEADER_SIZE;
  let prevRaw = 0;
  let last = -1;
  for (;;) {
    const b0 = buf[p]!;
    if (b0 === ZIP_END) break;
    let prevlen = b0;
    let q = p + 1;
    if (b0 === ZIP_BIG_PREVLEN) {
      if (p + 5 >= end) throw pastEnd(p, 5, baseOffset);
      prevlen = buf.readUInt32LE(p + 1);
      q = p + 5;
    }
    if (prevlen !== prevRaw) {
      throw new RdbError(
        `ziplist entry at ${p} says the previous entry is ${prevlen} bytes, it is ${prevRaw}`,
        baseOffset + p,
      );
    }
    // q < end here: the encoding byte is inside the blob.
    const enc = buf[q]!;
    let item: Buffer;
    let next: number;
    const kind = enc >>> 6;
    if (kind < 3) {
      let dataStart: number;
      let len: number;
      if (kind === 0) {
        len = enc & 0x3f;
        dataStart = q + 1;
      } else if (kind === 1) {
        if (q + 2 > end) throw pastEnd(p, q + 2 - p, baseOffset);
        len = ((enc & 0x3f) << 8) | buf[q + 1]!;
        dataStart = q + 2;
      } else {
        if (q + 5 > end) throw pastEnd(p, q + 5 - p, baseOffset);
        len = buf.readUInt32BE(q + 1);
        dataStart = q + 5;
      }
      next = dataStart + len;
      if (next > end) throw pastEnd(p, next - p, baseOffset);
      item = buf.subarray(dataStart, next);
    } else {
      const d = q + 1;
      switch (enc) {
        case 0xfe:
          next = d + 1;
          if (next > end) throw pastEnd(p, next - p, baseOffset);
          item = formatInt(buf.readInt8(d));
          break;
        case 0xc0:
          next = d + 2;
          if (next > end) throw pastEnd(p, next - p, baseOffset);
          item = formatInt(buf.readInt16LE(d));
          break;
        case 0xf0:
          next = d + 3;
          if (next > end) throw pastEnd(p, next - p, baseOffset);
          item = formatInt(buf.readIntLE(d, 3));
          break;
        case 0xd0:
          next = d + 4;
          if (next > end) throw pastEnd(p, next - p, baseOffset);
          item = formatInt(buf.readInt32LE(d));
          break;
        case 0xe0:
          next = d + 8;
          if (next > end) throw pastEnd(p, next - p, baseOffset);
          item = formatInt64LE(buf, d);
          break;
        default:
          if (enc >= 0xf1 && enc <= 0xfd) {
            next = d;
            item = formatInt((enc & 0x0f) - 1);
            break;
          }
          throw new RdbError(`ziplist entry at ${p} has invalid encoding byte 0x${enc.toString(16)}`, baseOffset + q);
      }
    }
    out.push(item);
    prevRaw = next - p;
    last = p;
    p = next;
  }
  if (p !== end) throw new RdbError(`ziplist terminator 0xFF at ${p}, before the end (${end})`, baseOffset + p);
  if (last !== -1 && last !== tail) {
    throw new RdbError(`ziplist tail offset ${tail} is not the last entry (${last})`, baseOffset + 4);
  }
  if (count !== ZIPLIST_LEN_UNKNOWN && count !== out.length) {
    throw new RdbError(`ziplist header says ${count} entries, found ${out.length}`, baseOffset + 8);
  }
  return out;
}

function pastEnd(p: number, len: number, baseOffset: number): RdbError {
  return new RdbError(`ziplist entry at ${p} runs past the end (len ${len})`, baseOffset + p);
}

const ZIP_LEN_MAX_HEADER = 0xffff;

/** Encoding byte and data size of an integer entry, as zipTryEncoding picks them. */
function zipIntEncoding(v: number | bigint): [enc: number, size: number] {
  if (typeof v === 'bigint') return [0xe0, 8];
  if (v >= 0 && v <= 12) return [0xf1 + v, 0];
  if (v >= -128 && v <= 127) return [0xfe, 1];
  if (v >= -32768 && v <= 32767) return [0xc0, 2];
  if (v >= -8388608 && v <= 8388607) return [0xf0, 3];
  if (v >= -2147483648 && v <= 2147483647) return [0xd0, 4];
  return [0xe0, 8];
}

/**
 * Builds a ziplist holding `items` in order, byte for byte as ziplistPush would: Buffers shorter than 32 bytes
 * that spell a canonical int64, and numbers/bigints, become integer entries in the smallest encoding.
 */
export function encodeZiplist(items: ReadonlyArray<Buffer | number | bigint>): Buffer {
  const n = items.length;
  const ints: (number | bigint | null)[] = new Array<number | bigint | null>(n);
  const raw: number[] = new Array<number>(n); // size of each entry without its prevlen
  let total = ZIPLIST_HEADER_SIZE + 1;
  let prevRaw = 0;
  let tail = ZIPLIST_HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    let v: number | bigint | null;
    if (Buffer.isBuffer(item)) {
      v = item.length > 0 && item.length < 32 ? parseCanonicalSafeInt(item) : null;
      if (v === null && item.length >= 16 && item.length < 32) v = toSafe(parseCanonicalInt(item));
    } else {
      v = checkInt(item, i);
    }
    ints[i] = v;
    let size: number;
    if (v !== null) {
      size = 1 + zipIntEncoding(v)[1];
    } else {
      const len = (item as Buffer).length;
      size = (len <= 0x3f ? 1 : len <= 0x3fff ? 2 : 5) + len;
    }
    raw[i] = size;
    tail = total - 1;
    total += (prevRaw < ZIP_BIG_PREVLEN ? 1 : 5) + size;
    prevRaw = (prevRaw < ZIP_BIG_PREVLEN ? 1 : 5) + size;
  }
  if (total > 0xffffffff) throw new RdbError(`ziplist would be ${total} bytes, more than 2^32-1`, 0);
  const buf = Buffer.allocUnsafe(total);
  buf.writeUInt32LE(total, 0);
  buf.writeUInt32LE(tail, 4);
  buf.writeUInt16LE(n < ZIP_LEN_MAX_HEADER ? n : ZIP_LEN_MAX_HEADER, 8);
  let p = ZIPLIST_HEADER_SIZE;
  prevRaw = 0;
  for (let i = 0; i < n; i++) {
    const start = p;
    if (prevRaw < ZIP_BIG_PREVLEN) {
      buf[p++] = prevRaw;
    } else {
      buf[p++] = ZIP_BIG_PREVLEN;
      buf.writeUInt32LE(prevRaw, p);
      p += 4;
    }
    const v = ints[i]!;
    if (v === null) {
      const s = items[i] as Buffer;
      const len = s.length;
      if (len <= 0x3f) {
        buf[p++] = len;
      } else if (len <= 0x3fff) {
        buf[p++] = 0x40 | (len >>> 8);
        buf[p++] = len & 0xff;
      } else {
        buf[p++] = 0x80;
        buf.writeUInt32BE(len, p);
        p += 4;
      }
      s.copy(buf, p);
      p += len;
    } else {
      const [enc, size] = zipIntEncoding(v);
      buf[p++] = enc;
      if (size === 8) buf.writeBigInt64LE(BigInt(v), p);
      else if (size > 0) buf.writeIntLE(v as number, p, size);
      p += size;
    }
    prevRaw = p - start;
  }
  buf[p] = ZIP_END;
  return buf;
}

function toSafe(v: bigint | null): number | bigint | null {
  if (v === null) return null;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function checkInt(v: number | bigint, index: number): number | bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RdbError(`ziplist item ${index}: ${v} is not a safe integer`, 0);
    return v;
  }
  if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new RdbError(`ziplist item ${index}: ${v} exceeds int64`, 0);
  return toSafe(v)!;
}
