/**
 * Keys-only parsing (`values: false`): walks a value by its framing and skips its bytes (they still go
 * through the CRC64 and any capture) without creating element Buffers, decompressing LZF or decoding
 * ziplists/listpacks/intsets. Blob contents are not validated here (like redis-check-rdb without
 * sanitize-dump-payload, only the framing is). Streams and module values have no such flat framing and
 * are walked by their own decoders with the events dropped (see RdbParser).
 *
 * Every value is described by a plan: an optional fixed prefix, then one element (single-blob types) or
 * a counted run of elements, each element a sequence of ops read in rdb.c rdbLoadObject's order. One op
 * is one read unit; a string's payload is skipped as it arrives (never buffered whole).
 */
import { RDB_TYPE } from '../constants.js';
import type { KeyHeader } from '../types.js';
import type { ValueDecoder } from './context.js';
import type { Cursor } from './cursor.js';
import { VALKEY_TYPE } from './layouts.js';

/** What one element is made of. */
const OP = {
  /** An RDB string (raw, integer or LZF). */
  STRING: 0,
  /** An RDB length (a per-field TTL, a quicklist container). */
  LEN: 1,
  /** 8 bytes (a binary double score, a Valkey field expire time). */
  FIXED8: 2,
  /** rdbLoadDoubleValue: one length byte (253..255: nan/+inf/-inf, no text), then that many bytes. */
  TEXT_SCORE: 3,
} as const;

/** How a single-blob value states its element count, for key-start's `length`. */
const BLOB = { NONE: 0, LISTPACK: 1, ZIPLIST: 2, INTSET: 3, ZIPMAP: 4 } as const;

interface SkipPlan {
  /** Bytes before the value proper (RDB_TYPE_HASH_METADATA / HASH_LISTPACK_EX: the 8-byte min-expire). */
  readonly prefix: number;
  /** true: a count then that many elements; false: exactly one element (one string). */
  readonly counted: boolean;
  /** The counted run is the element count key-start reports (not for quicklist nodes). */
  readonly countIsLength: boolean;
  readonly ops: readonly number[];
  /** Single blobs: which container it is, and entries per element, to read the count from its header. */
  readonly blob: number;
  readonly perElement: number;
}

const single = (blob: number = BLOB.NONE, perElement = 1, prefix = 0): SkipPlan => ({
  prefix,
  counted: false,
  countIsLength: false,
  ops: [OP.STRING],
  blob,
  perElement,
});

const counted = (ops: readonly number[], countIsLength = true, prefix = 0): SkipPlan => ({
  prefix,
  counted: true,
  countIsLength,
  ops,
  blob: BLOB.NONE,
  perElement: 1,
});

const COMMON: ReadonlyMap<number, SkipPlan> = new Map<number, SkipPlan>([
  [RDB_TYPE.STRING, single()],
  [RDB_TYPE.LIST, counted([OP.STRING])],
  [RDB_TYPE.SET, counted([OP.STRING])],
  [RDB_TYPE.ZSET, counted([OP.STRING, OP.TEXT_SCORE])],
  [RDB_TYPE.HASH, counted([OP.STRING, OP.STRING])],
  [RDB_TYPE.ZSET_2, counted([OP.STRING, OP.FIXED8])],
  [RDB_TYPE.HASH_ZIPMAP, single(BLOB.ZIPMAP)],
  [RDB_TYPE.LIST_ZIPLIST, single(BLOB.ZIPLIST)],
  [RDB_TYPE.SET_INTSET, single(BLOB.INTSET)],
  [RDB_TYPE.ZSET_ZIPLIST, single(BLOB.ZIPLIST, 2)],
  [RDB_TYPE.HASH_ZIPLIST, single(BLOB.ZIPLIST, 2)],
  [RDB_TYPE.LIST_QUICKLIST, counted([OP.STRING], false)],
  [RDB_TYPE.HASH_LISTPACK, single(BLOB.LISTPACK, 2)],
  [RDB_TYPE.ZSET_LISTPACK, single(BLOB.LISTPACK, 2)],
  [RDB_TYPE.LIST_QUICKLIST_2, counted([OP.LEN, OP.STRING], false)],
  [RDB_TYPE.SET_LISTPACK, single(BLOB.LISTPACK)],
]);

const REDIS_ONLY: ReadonlyMap<number, SkipPlan> = new Map<number, SkipPlan>([
  [RDB_TYPE.HASH_METADATA_PRE_GA, counted([OP.LEN, OP.STRING, OP.STRING])],
  [RDB_TYPE.HASH_LISTPACK_EX_PRE_GA, single(BLOB.LISTPACK, 3)],
  [RDB_TYPE.HASH_METADATA, counted([OP.LEN, OP.STRING, OP.STRING], true, 8)],
  [RDB_TYPE.HASH_LISTPACK_EX, single(BLOB.LISTPACK, 3, 8)],
]);

const VALKEY_ONLY: ReadonlyMap<number, SkipPlan> = new Map<number, SkipPlan>([
  [VALKEY_TYPE.HASH_2, counted([OP.STRING, OP.STRING, OP.FIXED8])],
]);

/** The plans of every type id (a byte) of one magic, in an array indexed by the id: one lookup per key. */
function byTypeId(only: ReadonlyMap<number, SkipPlan>): readonly (SkipPlan | undefined)[] {
  const table = new Array<SkipPlan | undefined>(256).fill(undefined);
  for (const [id, plan] of [...COMMON, ...only]) table[id] = plan;
  return table;
}
const REDIS_PLANS = byTypeId(REDIS_ONLY);
const VALKEY_PLANS = byTypeId(VALKEY_ONLY);

/** The skip plan of a value type, or undefined for streams, modules and unknown ids. */
export function skipPlan(rdbType: number, valkey: boolean): SkipPlan | undefined {
  return (valkey ? VALKEY_PLANS : REDIS_PLANS)[rdbType];
}

const STRING_ENCODING_NAMES = ['raw', 'int', 'lzf'] as const;

/** Reused for every key of a parser (no allocation per key): reset() with the key's plan, then begin/step. */
export class SkipDecoder implements ValueDecoder {
  private plan: SkipPlan = single();
  /** Elements left (counted plans). */
  private left = 0;
  /** Next op of the current element. */
  private op = 0;
  /** Payload bytes of the current string still to skip. */
  private skipLeft = 0;

  constructor(private readonly cur: Cursor) {}

  reset(plan: SkipPlan): this {
    this.plan = plan;
    this.op = 0;
    this.skipLeft = 0;
    return this;
  }

  begin(header: KeyHeader): number | undefined {
    const cur = this.cur;
    const plan = this.plan;
    if (plan.prefix > 0) cur.skip(plan.prefix);
    if (plan.counted) {
      this.left = cur.count('element count');
      return plan.countIsLength ? this.left : undefined;
    }
    // One string: read its header now (same unit as the key name), skip its payload in step().
    this.left = 1;
    this.op = 1;
    this.skipLeft = skipStringHeader(cur);
    if (plan.blob === BLOB.NONE) {
      header.encoding = STRING_ENCODING_NAMES[cur.lastStringEnc] ?? 'raw';
      return undefined;
    }
    if (cur.lastStringEnc !== 0) return undefined; // LZF: its header is compressed
    cur.need(Math.min(this.skipLeft, 10)); // the blob's header, so the length does not depend on chunking
    return this.blobLength();
  }

  /** The element count a raw (uncompressed) blob's header states (its first bytes are buffered). */
  private blobLength(): number | undefined {
    const cur = this.cur;
    const n = this.skipLeft;
    const p = cur.pos;
    const avail = cur.end - p;
    const buf = cur.buf;
    let entries = -1;
    switch (this.plan.blob) {
      case BLOB.LISTPACK:
        if (n >= 7 && avail >= 6) entries = buf.readUInt16LE(p + 4) === 0xffff ? -1 : buf.readUInt16LE(p + 4);
        break;
      case BLOB.ZIPLIST:
        if (n >= 11 && avail >= 10) entries = buf.readUInt16LE(p + 8) === 0xffff ? -1 : buf.readUInt16LE(p + 8);
        break;
      case BLOB.INTSET:
        if (n >= 8 && avail >= 8) entries = buf.readUInt32LE(p + 4);
        break;
      case BLOB.ZIPMAP:
        // zmlen counts pairs (254 = unknown); the header is one byte
        if (n >= 1 && avail >= 1) return buf[p]! < 254 ? buf[p]! : undefined;
        break;
      default:
        break;
    }
    const per = this.plan.perElement;
    return entries >= 0 && entries % per === 0 ? entries / per : undefined;
  }

  step(): void {
    const cur = this.cur;
    const ops = this.plan.ops;
    for (;;) {
      if (this.skipLeft > 0) {
        this.skipLeft -= cur.skipAvailable(this.skipLeft);
        cur.mark = cur.pos;
        if (this.skipLeft > 0) cur.need(1); // starved: wait for the next chunk
      }
      if (this.op === ops.length) {
        this.op = 0;
        this.left--;
      }
      if (this.left === 0) return;
      switch (ops[this.op]) {
        case OP.STRING:
          this.skipLeft = skipStringHeader(cur);
          break;
        case OP.LEN:
          cur.len();
          break;
        case OP.FIXED8:
          cur.skip(8);
          break;
        default: {
          const n = cur.u8();
          if (n < 253) this.skipLeft = n;
          break;
        }
      }
      this.op++;
      cur.mark = cur.pos;
    }
  }
}

/**
 * Reads an RDB string's header (as Cursor.string does: raw, integer or LZF; cur.lastStringEnc says which) and
 * returns the payload bytes that follow it, for the caller to skip as they arrive.
 */
export function skipStringHeader(cur: Cursor): number {
  const start = cur.pos;
  const b = cur.u8();
  if (b >= 0xc0) {
    switch (b & 63) {
      case 0:
        cur.lastStringEnc = 1;
        return 1;
      case 1:
        cur.lastStringEnc = 1;
        return 2;
      case 2:
        cur.lastStringEnc = 1;
        return 4;
      case 3: {
        const clen = cur.len();
        const ulen = cur.len();
        if (ulen > cur.maxElementSize || clen > cur.maxElementSize) {
          throw cur.error(
            `LZF string of ${ulen} bytes (${clen} compressed) exceeds maxElementSize ${cur.maxElementSize}`,
            cur.at(start),
          );
        }
        if (ulen === 0) throw cur.error('LZF string with an uncompressed length of 0', cur.at(start));
        cur.lastStringEnc = 2;
        return clen;
      }
      default:
        throw cur.error(`unknown string encoding 0x${b.toString(16).padStart(2, '0')}`, cur.at(start));
    }
  }
  cur.pos = start;
  const n = cur.len();
  if (n > cur.maxElementSize) {
    throw cur.error(`string of ${n} bytes exceeds maxElementSize ${cur.maxElementSize}`, cur.at(start));
  }
  cur.lastStringEnc = 0;
  return n;
}
