/**
 * Values stored element by element after a count (rdb.c rdbLoadObject): linked lists, hashtable sets,
 * skiplist sorted sets, hashtable hashes, hashes with field TTLs (RDB_TYPE_HASH_METADATA and its
 * pre-GA form, Valkey's RDB_TYPE_HASH_2). One element is one read unit; elements are emitted in batches.
 */
import type { HashEntry, KeyHeader, ZsetEntry } from '../types.js';
import { type DecodeContext, type ValueDecoder, parseScore } from './context.js';

abstract class CountedDecoder<T> implements ValueDecoder {
  protected remaining = 0;
  protected batch: T[] = [];

  constructor(protected readonly ctx: DecodeContext) {}

  begin(_header: KeyHeader): number {
    this.remaining = this.ctx.cur.count('element count');
    return this.remaining;
  }

  /** Read one element (all reads, no state change). */
  protected abstract read(): T;
  protected abstract flush(items: T[]): void;

  step(): void {
    const cur = this.ctx.cur;
    const size = this.ctx.batchSize;
    while (this.remaining > 0) {
      const item = this.read();
      this.batch.push(item);
      this.remaining--;
      cur.mark = cur.pos;
      if (this.batch.length >= size) {
        this.flush(this.batch);
        this.batch = [];
      }
    }
    if (this.batch.length > 0) {
      this.flush(this.batch);
      this.batch = [];
    }
  }
}

/** RDB_TYPE_LIST (1): count, then strings. */
export class LinkedListDecoder extends CountedDecoder<Buffer> {
  protected read(): Buffer {
    return this.ctx.cur.string();
  }
  protected flush(items: Buffer[]): void {
    this.ctx.emit({ kind: 'list-items', items });
  }
}

/** RDB_TYPE_SET (2): count, then member strings. */
export class HashtableSetDecoder extends CountedDecoder<Buffer> {
  protected read(): Buffer {
    return this.ctx.cur.string();
  }
  protected flush(members: Buffer[]): void {
    this.ctx.emit({ kind: 'set-members', members });
  }
}

/** RDB_TYPE_ZSET (3, scores as length-prefixed text) and RDB_TYPE_ZSET_2 (5, binary doubles). */
export class SkiplistZsetDecoder extends CountedDecoder<ZsetEntry> {
  constructor(
    ctx: DecodeContext,
    private readonly binaryScores: boolean,
  ) {
    super(ctx);
  }

  protected read(): ZsetEntry {
    const cur = this.ctx.cur;
    const member = cur.string();
    if (this.binaryScores) return { member, score: cur.f64le() };
    return { member, score: this.textScore() };
  }

  /** rdbLoadDoubleValue: one length byte (253 nan, 254 +inf, 255 -inf) then that many bytes of text. */
  private textScore(): number {
    const cur = this.ctx.cur;
    const start = cur.pos;
    const len = cur.u8();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const score = parseScore(cur.bytes(len));
    if (Number.isNaN(score)) throw cur.error('invalid sorted set score', cur.at(start));
    return score;
  }

  protected flush(entries: ZsetEntry[]): void {
    this.ctx.emit({ kind: 'zset-entries', entries });
  }
}

/** How each field of a hash with a count is laid out. */
export const HASH_LAYOUT = {
  /** RDB_TYPE_HASH (4): field, value. */
  PLAIN: 0,
  /** RDB_TYPE_HASH_METADATA (24): min-expire (8 bytes LE) first; per field: ttl (len, 0 = none, else
   * expireAt = ttl + minExpire - 1), field, value. */
  METADATA: 1,
  /** RDB_TYPE_HASH_METADATA_PRE_GA (22, 7.4 release candidates): per field: absolute expireAt (len), field, value. */
  METADATA_PRE_GA: 2,
  /** Valkey 9 RDB_TYPE_HASH_2 (22 under the VALKEY magic): per field: field, value, expireAt (8 bytes LE as
   * rdbSaveMillisecondTime writes it, -1 = none). Source: valkey-io/valkey-rfc HFE.md "RDB" (the merged design of
   * valkey#2089); no Valkey 9 fixture exists in the corpus. */
  VALKEY_HASH_2: 3,
} as const;
export type HashLayout = (typeof HASH_LAYOUT)[keyof typeof HASH_LAYOUT];

export class HashtableHashDecoder extends CountedDecoder<HashEntry> {
  private minExpire = 0;

  constructor(
    ctx: DecodeContext,
    private readonly layout: HashLayout,
  ) {
    super(ctx);
  }

  override begin(header: KeyHeader): number {
    if (this.layout === HASH_LAYOUT.METADATA) this.minExpire = this.ctx.cur.i64le();
    return super.begin(header);
  }

  protected read(): HashEntry {
    const cur = this.ctx.cur;
    switch (this.layout) {
      case HASH_LAYOUT.PLAIN: {
        const field = cur.string();
        return { field, value: cur.string() };
      }
      case HASH_LAYOUT.METADATA:
      case HASH_LAYOUT.METADATA_PRE_GA: {
        const ttl = cur.len();
        const field = cur.string();
        const value = cur.string();
        let expireAtMs: number | null = null;
        if (ttl !== 0) expireAtMs = this.layout === HASH_LAYOUT.METADATA ? ttl + this.minExpire - 1 : ttl;
        return { field, value, expireAtMs };
      }
      default: {
        const field = cur.string();
        const value = cur.string();
        const at = cur.pos;
        const expire = cur.i64le();
        if (expire < -1) throw cur.error(`invalid hash field expire time ${expire}`, cur.at(at));
        return { field, value, expireAtMs: expire === -1 ? null : expire };
      }
    }
  }

  protected flush(entries: HashEntry[]): void {
    this.ctx.emit({ kind: 'hash-entries', entries });
  }
}
