/**
 * Intset (intset.c), the sorted integer array of small all-integer sets.
 *
 *   <encoding u32le: 2, 4 or 8 bytes per value> <length u32le> <values, little-endian, strictly ascending>
 */
import { RdbError } from '../errors.js';
import { formatInt, formatInt64LE } from './int-string.js';

const INTSET_HEADER_SIZE = 8;
const INT16_MIN = -32768n;
const INT16_MAX = 32767n;
const INT32_MIN = -2147483648n;
const INT32_MAX = 2147483647n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Every member of an intset, ascending, as decimal ASCII.
 * Validates like intsetValidateIntegrity(deep): encoding, size = header + length * encoding, strictly ascending.
 * (Redis also refuses an empty intset; an empty one decodes here to [] and the caller decides.)
 * @throws RdbError with offset `baseOffset` + position in `buf`.
 */
export function decodeIntset(buf: Buffer, baseOffset = 0): Buffer[] {
  const size = buf.length;
  if (size < INTSET_HEADER_SIZE) {
    throw new RdbError(`intset of ${size} bytes is shorter than its 8-byte header`, baseOffset);
  }
  const enc = buf.readUInt32LE(0);
  if (enc !== 2 && enc !== 4 && enc !== 8) throw new RdbError(`intset has invalid encoding ${enc}`, baseOffset);
  const count = buf.readUInt32LE(4);
  if (INTSET_HEADER_SIZE + count * enc !== size) {
    throw new RdbError(
      `intset of ${count} x ${enc}-byte values needs ${8 + count * enc} bytes, has ${size}`,
      baseOffset,
    );
  }
  const out: Buffer[] = new Array<Buffer>(count);
  if (enc === 8) {
    let prevHi = 0;
    let prevLo = 0;
    for (let i = 0, p = INTSET_HEADER_SIZE; i < count; i++, p += 8) {
      const lo = buf.readUInt32LE(p);
      const hi = buf.readInt32LE(p + 4);
      if (i > 0 && (hi < prevHi || (hi === prevHi && lo <= prevLo))) throw unordered(i, p, baseOffset);
      prevHi = hi;
      prevLo = lo;
      out[i] = formatInt64LE(buf, p);
    }
    return out;
  }
  let prev = 0;
  for (let i = 0, p = INTSET_HEADER_SIZE; i < count; i++, p += enc) {
    const v = enc === 2 ? buf.readInt16LE(p) : buf.readInt32LE(p);
    if (i > 0 && v <= prev) throw unordered(i, p, baseOffset);
    prev = v;
    out[i] = formatInt(v);
  }
  return out;
}

function unordered(i: number, p: number, baseOffset: number): RdbError {
  return new RdbError(`intset value ${i} is not greater than the one before it`, baseOffset + p);
}

/** An intset of `values` (sorted, duplicates dropped) in the smallest encoding that fits them all. */
export function encodeIntset(values: ReadonlyArray<bigint>): Buffer {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let enc = 2;
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (v < INT64_MIN || v > INT64_MAX) throw new RdbError(`intset value ${v} exceeds int64`, 0);
    if (n > 0 && v === sorted[n - 1]) continue;
    sorted[n++] = v;
    if (v < INT32_MIN || v > INT32_MAX) enc = 8;
    else if (enc < 4 && (v < INT16_MIN || v > INT16_MAX)) enc = 4;
  }
  const buf = Buffer.allocUnsafe(INTSET_HEADER_SIZE + n * enc);
  buf.writeUInt32LE(enc, 0);
  buf.writeUInt32LE(n, 4);
  for (let i = 0, p = INTSET_HEADER_SIZE; i < n; i++, p += enc) {
    const v = sorted[i]!;
    if (enc === 8) buf.writeBigInt64LE(v, p);
    else if (enc === 4) buf.writeInt32LE(Number(v), p);
    else buf.writeInt16LE(Number(v), p);
  }
  return buf;
}
