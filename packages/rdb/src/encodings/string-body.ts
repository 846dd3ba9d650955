/**
 * The serialized value of a string key (RDB_TYPE_STRING: what the parser captures as its raw body, and the body
 * of a string's DUMP payload) read straight from its bytes: rdbGenericLoadStringObject in rdb.c. A length-prefixed
 * run of bytes, an integer (RDB_ENC_INT8/16/32, little-endian, read back as its decimal text), or LZF-compressed
 * bytes (RDB_ENC_LZF: compressed length, plain length, data). stringBodyLength says how long the string is without
 * decoding it; writeStringBody writes it into a buffer (a command being built), so no Buffer is made per value.
 */
import { RDB_ENC, RDB_LEN } from '../constants.js';
import { RdbError } from '../errors.js';
import { lzfDecompress } from './lzf.js';

/** Where a string key's serialized value holds its string (parseStringBody), for writeStringBody. */
export interface StringBodyForm {
  kind: 'plain' | 'int' | 'lzf';
  /** Start of the bytes (plain, lzf data), or the integer (int). */
  at: number;
  /** Length of the string. */
  length: number;
  /** plain: end of the bytes; lzf: end of the compressed data; int: the value. */
  end: number;
}

/** A length as rdbLoadLen reads it: [value, next position], or a special encoding as [-1 - enc, next]. */
function readLen(b: Buffer, p: number): [number, number] {
  if (p >= b.length) throw new RdbError('string value is truncated', p);
  const first = b[p]!;
  switch (first >> 6) {
    case RDB_LEN.BITS6:
      return [first & 0x3f, p + 1];
    case RDB_LEN.BITS14:
      if (p + 2 > b.length) throw new RdbError('string length is truncated', p);
      return [((first & 0x3f) << 8) | b[p + 1]!, p + 2];
    case RDB_LEN.ENCVAL:
      return [-1 - (first & 0x3f), p + 1];
    default:
      if (first === RDB_LEN.BITS32) {
        if (p + 5 > b.length) throw new RdbError('string length is truncated', p);
        return [b.readUInt32BE(p + 1), p + 5];
      }
      if (first === RDB_LEN.BITS64) {
        if (p + 9 > b.length) throw new RdbError('string length is truncated', p);
        const n = b.readBigUInt64BE(p + 1);
        if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError(`string length ${n} is too large`, p);
        return [Number(n), p + 9];
      }
      throw new RdbError(`unknown length encoding 0x${first.toString(16)}`, p);
  }
}

/**
 * Where the RDB string that starts at b[p] ends (a plain run, an integer, or LZF data), without reading it: for a
 * reader that walks a collection's serialized strings (e.g. the members of a hash-table set). @throws RdbError
 * when malformed or cut.
 */
export function encodedStringEnd(b: Buffer, p: number, limit = b.length): number {
  const [n, q] = readLen(b, p);
  let end: number;
  if (n >= 0) end = q + n;
  else {
    const enc = -1 - n;
    if (enc === RDB_ENC.INT8) end = q + 1;
    else if (enc === RDB_ENC.INT16) end = q + 2;
    else if (enc === RDB_ENC.INT32) end = q + 4;
    else if (enc === RDB_ENC.LZF) {
      const [clen, r] = readLen(b, q);
      const [len, t] = readLen(b, r);
      if (clen < 0 || len < 0) throw new RdbError('lzf string lengths are not plain lengths', q);
      end = t + clen;
    } else throw new RdbError(`unknown string encoding ${enc}`, p);
  }
  if (end > limit) throw new RdbError(`string is truncated (ends at ${end} of ${limit})`, p);
  return end;
}

/** A length as rdbLoadLen reads it at b[p]: [value, next position]. @throws RdbError when not a plain length. */
export function encodedLength(b: Buffer, p: number): [number, number] {
  const r = readLen(b, p);
  if (r[0] < 0) throw new RdbError('a length was expected, not a string encoding', p);
  return r;
}

/** Reads the header of a string key's serialized value. @throws RdbError when malformed. */
export function parseStringBody(b: Buffer): StringBodyForm {
  const [n, p] = readLen(b, 0);
  let form: StringBodyForm;
  if (n >= 0) {
    form = { kind: 'plain', at: p, length: n, end: p + n };
  } else {
    const enc = -1 - n;
    if (enc === RDB_ENC.INT8 || enc === RDB_ENC.INT16 || enc === RDB_ENC.INT32) {
      const size = enc === RDB_ENC.INT8 ? 1 : enc === RDB_ENC.INT16 ? 2 : 4;
      if (p + size > b.length) throw new RdbError('integer string value is truncated', p);
      if (p + size < b.length) throw new RdbError(`${b.length - p - size} bytes after the string value`, p + size);
      const v = size === 1 ? b.readInt8(p) : size === 2 ? b.readInt16LE(p) : b.readInt32LE(p);
      return { kind: 'int', at: p + size, length: String(v).length, end: v };
    }
    if (enc !== RDB_ENC.LZF) throw new RdbError(`unknown string encoding ${enc}`, 0);
    const [clen, q] = readLen(b, p);
    const [len, r] = readLen(b, q);
    if (clen < 0 || len < 0) throw new RdbError('lzf string lengths are not plain lengths', p);
    form = { kind: 'lzf', at: r, length: len, end: r + clen };
  }
  if (form.end > b.length) throw new RdbError(`string value is truncated (${form.end} of ${b.length} bytes)`, b.length);
  if (form.end < b.length) throw new RdbError(`${b.length - form.end} bytes after the string value`, form.end);
  return form;
}

/** The length of the string a string key's serialized value holds. @throws RdbError when malformed. */
export function stringBodyLength(body: Buffer): number {
  return parseStringBody(body).length;
}

/** Writes the string a string key's serialized value holds at `p` of `target`; returns the end. */
export function writeStringBody(
  body: Buffer,
  target: Buffer,
  p: number,
  /** The body's form when the caller has parsed it already (its length was needed first). */
  f: StringBodyForm = parseStringBody(body),
): number {
  switch (f.kind) {
    case 'plain':
      target.set(body.subarray(f.at, f.end), p);
      return p + f.end - f.at;
    case 'int':
      return p + target.write(String(f.end), p, 'latin1');
    case 'lzf':
      lzfDecompress(body, f.length, 0, f.at, f.end, target, p);
      return p + f.length;
  }
}
