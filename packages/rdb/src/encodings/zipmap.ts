/**
 * Zipmap (zipmap.c), the small-hash container of Redis before 2.6 (RDB type 9).
 *
 *   <count: 1 byte, 254 = unknown> (<field len> <field> <value len> <free: 1 byte> <value> <free bytes>)... <0xFF>
 *   len = 1 byte < 254, or 0xFE + u32le
 */
import { RdbError } from '../errors.js';

const ZIPMAP_BIGLEN = 254;
const ZIPMAP_END = 255;

/**
 * The fields and values of a zipmap, flat: [field, value, field, value, ...], as views into `buf`.
 * Validates like zipmapValidateIntegrity(deep): terminator, every length and entry inside the blob, count.
 * Like Redis, bytes after the first 0xFF in a field position are not looked at. (Redis also refuses an
 * empty zipmap; an empty one decodes here to [] and the caller decides.)
 * @throws RdbError with offset `baseOffset` + position in `buf`.
 */
export function decodeZipmap(buf: Buffer, baseOffset = 0): Buffer[] {
  const size = buf.length;
  if (size < 2) throw new RdbError(`zipmap of ${size} bytes is shorter than its 2-byte minimum`, baseOffset);
  const end = size - 1;
  if (buf[end] !== ZIPMAP_END) throw new RdbError('zipmap does not end with 0xFF', baseOffset + end);
  const out: Buffer[] = [];
  let p = 1;
  while (buf[p] !== ZIPMAP_END) {
    const entry = p;
    // field
    let l = buf[p]!;
    if (l < ZIPMAP_BIGLEN) {
      p += 1;
    } else {
      if (p + 5 > end) throw pastEnd(entry, p + 5 - entry, baseOffset);
      l = buf.readUInt32LE(p + 1);
      p += 5;
    }
    const field = p;
    p += l;
    if (p > end) throw pastEnd(entry, p - entry, baseOffset);
    const fieldEnd = p;
    // value
    l = buf[p]!;
    if (l < ZIPMAP_BIGLEN) {
      if (p + 1 > end) throw pastEnd(entry, p + 1 - entry, baseOffset);
      p += 1;
    } else {
      if (p + 5 > end) throw pastEnd(entry, p + 5 - entry, baseOffset);
      l = buf.readUInt32LE(p + 1);
      p += 5;
    }
    const free = buf[p]!;
    p += 1;
    const value = p;
    p += l + free;
    if (p > end) throw pastEnd(entry, p - entry, baseOffset);
    out.push(buf.subarray(field, fieldEnd), buf.subarray(value, value + l));
  }
  const count = buf[0]!;
  if (count !== ZIPMAP_BIGLEN && count !== out.length / 2) {
    throw new RdbError(`zipmap header says ${count} entries, found ${out.length / 2}`, baseOffset);
  }
  return out;
}

function pastEnd(p: number, len: number, baseOffset: number): RdbError {
  return new RdbError(`zipmap entry at ${p} runs past the end (len ${len})`, baseOffset + p);
}
