/**
 * Decimal integers as Redis reads and writes them (util.c string2ll / ll2string).
 *
 * A string is a canonical int64 when it is exactly what ll2string would print for some int64:
 * "0", or an optional "-" then a digit 1-9 then digits, within [-2^63, 2^63-1], at most 20 bytes.
 * "-0", "+1", "01", " 1", "1 " and "" are not.
 */

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
/** LONG_STR_SIZE in util.h: a valid string is strictly shorter. */
const LONG_STR_SIZE = 21;

/** The int64 `b` spells canonically, or null. */
export function parseCanonicalInt(b: Uint8Array): bigint | null {
  const n = parseCanonicalSafeInt(b);
  if (n !== null) return BigInt(n);
  return parseCanonicalBigInt(b);
}

/**
 * Like parseCanonicalInt, but as a number, and only for values whose magnitude is below 2^53
 * (null otherwise, or when not canonical): the fast path for encoders deciding "int or string".
 */
export function parseCanonicalSafeInt(b: Uint8Array): number | null {
  const len = b.length;
  if (len === 0 || len > 16) return null;
  let i = 0;
  let negative = false;
  if (b[0] === 0x2d) {
    negative = true;
    i = 1;
    if (len === 1) return null;
  }
  const first = b[i]!;
  if (first < 0x31 || first > 0x39) {
    return len === 1 && first === 0x30 ? 0 : null;
  }
  let v = first - 0x30;
  for (i++; i < len; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10 + (c - 0x30);
  }
  if (v > Number.MAX_SAFE_INTEGER) return null;
  return negative ? -v : v;
}

function parseCanonicalBigInt(b: Uint8Array): bigint | null {
  const len = b.length;
  if (len === 0 || len >= LONG_STR_SIZE) return null;
  let i = 0;
  if (b[0] === 0x2d) {
    i = 1;
    if (len === 1) return null;
  }
  const first = b[i]!;
  if (first < 0x31 || first > 0x39) return null;
  for (i++; i < len; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return null;
  }
  const v = BigInt(Buffer.from(b.buffer, b.byteOffset, len).toString('latin1'));
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

const CACHE_SIZE = 10000;
/** Filled on first use (building all 10000 at load cost 30 ms of every start-up). */
const cache: (Buffer | undefined)[] = new Array<Buffer | undefined>(CACHE_SIZE);

function cached(n: number): Buffer {
  return (cache[n] ??= Buffer.from(String(n), 'latin1'));
}

/** Digits of larger numbers are written into a shared slab and handed out as views (like Node's own pool). */
const SLAB_SIZE = 8192;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabPos = 0;

function formatSafeInt(n: number): Buffer {
  const negative = n < 0;
  let v = negative ? -n : n;
  let len = negative ? 2 : 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) len++;
  if (slabPos + len > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabPos = 0;
  }
  const start = slabPos;
  const end = start + len;
  let i = end - 1;
  do {
    const q = Math.floor(v / 10);
    slab[i--] = 0x30 + (v - q * 10);
    v = q;
  } while (v > 0);
  if (negative) slab[start] = 0x2d;
  slabPos = end;
  return slab.subarray(start, end);
}

/**
 * Decimal ASCII of an integer. Values 0..9999 come from a shared cache, others may share a slab:
 * treat the result as read-only.
 */
export function formatInt(n: number | bigint): Buffer {
  if (typeof n === 'number') {
    if (n >= 0 && n < CACHE_SIZE && Number.isInteger(n)) return cached(n);
    if (!Number.isSafeInteger(n)) {
      if (!Number.isInteger(n)) throw new RangeError(`formatInt: ${n} is not an integer`);
      return Buffer.from(BigInt(n).toString(), 'latin1');
    }
    return formatSafeInt(n);
  }
  if (n >= 0n && n < BigInt(CACHE_SIZE)) return cached(Number(n));
  if (n >= -9007199254740991n && n <= 9007199254740991n) return formatSafeInt(Number(n));
  return Buffer.from(n.toString(), 'latin1');
}

/** Decimal ASCII of the little-endian int64 at `buf[pos, pos + 8)` (no BigInt unless the value needs it). */
export function formatInt64LE(buf: Buffer, pos: number): Buffer {
  const lo = buf.readUInt32LE(pos);
  const hi = buf.readInt32LE(pos + 4);
  if (hi >= -0x200000 && hi < 0x200000) return formatInt(hi * 4294967296 + lo);
  return formatInt(buf.readBigInt64LE(pos));
}
