/**
 * Estimated memory of a key once loaded into Redis (64-bit, jemalloc), in the spirit of
 * redis-rdb-tools' MemoryCallback (rdbtools/memprofiler.py): dict entries, robj headers, sds strings
 * rounded to jemalloc size classes, hashtable/skiplist/quicklist overheads, and compact encodings
 * (listpack/ziplist/intset) estimated from their elements. Deterministic: the skiplist level is the
 * expected value (1/(1-p) with p = 0.25) instead of rdbtools' random draw.
 */
const PTR = 8;
const LONG = 8;

/** jemalloc size class of an allocation (LG_QUANTUM=3): 8-byte steps up to 64, then 4 classes per doubling. */
export function jemallocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 64) return Math.ceil(n / 8) * 8;
  let group = 64;
  while (group * 2 < n) group *= 2;
  const step = group / 4;
  return Math.ceil(n / step) * step;
}

const INT_RE = /^-?[1-9][0-9]{0,18}$|^0$/;

/** True when Redis would store this value as an integer (string2ll round trip within int64). */
export function isIntegerString(b: Buffer): boolean {
  if (b.length === 0 || b.length > 20) return false;
  const s = b.toString('latin1');
  if (!INT_RE.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** sds header + bytes + NUL, rounded to the allocator class; integers live inside the robj. */
export function sizeofString(b: Buffer): number {
  if (isIntegerString(b)) return 0;
  const l = b.length;
  const header = l < 32 ? 1 : l < 256 ? 3 : l < 65536 ? 5 : 9;
  return jemallocSize(l + header + 1);
}

export const dictEntryOverhead = (): number => 2 * PTR + 8;
export const robjOverhead = (): number => PTR + 8;

export function keyExpiryOverhead(expiring: boolean): number {
  return expiring ? dictEntryOverhead() + 8 : 0;
}

export function topLevelObjectOverhead(key: Buffer, expiring: boolean): number {
  return dictEntryOverhead() + sizeofString(key) + robjOverhead() + keyExpiryOverhead(expiring);
}

function nextPower(n: number): number {
  let p = 1;
  while (p <= n) p *= 2;
  return p;
}

export function hashtableOverhead(size: number): number {
  return 4 + 7 * LONG + 4 * PTR + nextPower(size) * PTR * 1.5;
}

export function skiplistOverhead(size: number): number {
  return 2 * PTR + hashtableOverhead(size) + (2 * PTR + 16);
}

const EXPECTED_LEVEL = 1 / (1 - 0.25);

export function skiplistEntryOverhead(): number {
  return dictEntryOverhead() + 2 * PTR + 8 + (PTR + 8) * EXPECTED_LEVEL;
}

export function quicklistOverhead(nodes: number): number {
  const quicklist = 2 * PTR + LONG + 2 * 4;
  const node = 4 * PTR + LONG + 2 * 4;
  return quicklist + nodes * node;
}

/** Bytes of one ziplist entry (prevlen + header + data), as rdbtools' ziplist_entry_overhead. */
export function ziplistEntrySize(b: Buffer): number {
  let header: number;
  let size: number;
  if (isIntegerString(b)) {
    header = 1;
    const v = BigInt(b.toString('latin1'));
    const a = v < 0n ? -v : v;
    size = v >= 0n && v < 12n ? 0 : a < 128n ? 1 : a < 32768n ? 2 : a < 8388608n ? 3 : a < 2147483648n ? 4 : 8;
  } else {
    size = b.length;
    header = size <= 63 ? 1 : size <= 16383 ? 2 : 5;
  }
  const prevLen = size < 254 ? 1 : 5;
  return prevLen + header + size;
}

/** Bytes of one listpack entry (encoding + data + backlen), listpack.c lpEncodeBacklen & co. */
export function listpackEntrySize(b: Buffer): number {
  let enc: number;
  if (isIntegerString(b)) {
    const v = BigInt(b.toString('latin1'));
    enc =
      v >= 0n && v <= 127n
        ? 1
        : v >= -4096n && v <= 4095n
          ? 2
          : v >= -32768n && v <= 32767n
            ? 3
            : v >= -8388608n && v <= 8388607n
              ? 4
              : v >= -2147483648n && v <= 2147483647n
                ? 5
                : 9;
  } else {
    const l = b.length;
    enc = l < 64 ? 1 + l : l < 4096 ? 2 + l : 5 + l;
  }
  const back = enc < 128 ? 1 : enc < 16384 ? 2 : enc < 2097152 ? 3 : enc < 268435456 ? 4 : 5;
  return enc + back;
}

/** Header (total bytes + count) and end byte of a ziplist / listpack. */
export const ZIPLIST_HEADER = 4 + 4 + 2 + 1;
export const LISTPACK_HEADER = 4 + 2 + 1;
/** Largest quicklist node (list-max-listpack-size -2 = 8 KiB). */
export const QUICKLIST_NODE_BYTES = 8192;

export function intsetSize(members: number, width: number): number {
  return 8 + members * width;
}

/** Width in bytes of an intset member. */
export function intsetWidth(b: Buffer): number {
  const v = BigInt(b.toString('latin1'));
  return v >= -32768n && v <= 32767n ? 2 : v >= -2147483648n && v <= 2147483647n ? 4 : 8;
}

/** Redis's streamRadixTreeMemoryUsage estimate, as rdbtools uses it. */
export function streamRadixTreeSize(elements: number): number {
  const nodes = Math.floor(elements * 2.5);
  return 16 * elements + nodes * 4 + nodes * 30 * LONG;
}

export const STREAM_STRUCT = PTR * 2 + 8 + 16 + (PTR + 8 * 2);
export const STREAM_CG = PTR * 2 + 16;
export const STREAM_NACK = PTR + 8 + 8;
export const STREAM_CONSUMER = PTR * 2 + 8;
