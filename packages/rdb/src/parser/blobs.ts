/**
 * Values stored as one blob (rdb.c rdbLoadObject, the "encoded" branch): a string, or a ziplist,
 * listpack, intset or zipmap holding the whole collection. The blob is one read unit (it is one
 * element of the file); its elements are then emitted in batches without reading more input.
 */
import { decodeIntset, decodeListpack, decodeZiplist, decodeZipmap } from '../encodings/index.js';
import { RDB_TYPE } from '../constants.js';
import type { HashEntry, KeyHeader, ZsetEntry } from '../types.js';
import { type DecodeContext, type ValueDecoder, entryInt, parseScore } from './context.js';

const STRING_ENCODING_NAMES = ['raw', 'int', 'lzf'] as const;

/** RDB_TYPE_STRING (0). header.encoding says how it was stored: 'raw', 'int' or 'lzf'. */
export class StringDecoder implements ValueDecoder {
  private value: Buffer | null = null;

  constructor(private readonly ctx: DecodeContext) {}

  begin(header: KeyHeader): undefined {
    const cur = this.ctx.cur;
    this.value = cur.string();
    header.encoding = STRING_ENCODING_NAMES[cur.lastStringEnc] ?? 'raw';
    return undefined;
  }

  step(): void {
    if (this.value) this.ctx.emit({ kind: 'string', value: this.value });
    this.value = null;
  }
}

type BlobShape = 'list' | 'set' | 'zset' | 'hash' | 'hash-ttl';

function shapeOf(rdbType: number): BlobShape {
  switch (rdbType) {
    case RDB_TYPE.LIST_ZIPLIST:
      return 'list';
    case RDB_TYPE.SET_INTSET:
    case RDB_TYPE.SET_LISTPACK:
      return 'set';
    case RDB_TYPE.ZSET_ZIPLIST:
    case RDB_TYPE.ZSET_LISTPACK:
      return 'zset';
    case RDB_TYPE.HASH_LISTPACK_EX:
    case RDB_TYPE.HASH_LISTPACK_EX_PRE_GA:
      return 'hash-ttl';
    default:
      return 'hash';
  }
}

/**
 * Ziplist list (10), intset (11), ziplist/listpack zset (12, 17), zipmap/ziplist/listpack hash (9, 13, 16),
 * listpack set (20), and listpack hashes with field TTLs (23 pre-GA; 25 with an 8-byte min-expire first):
 * field, value, expire-at triples where 0 means no TTL (t_hash.c HASH_LP_NO_TTL).
 */
export class BlobDecoder implements ValueDecoder {
  private items: Buffer[] = [];
  private readonly shape: BlobShape;

  constructor(
    private readonly ctx: DecodeContext,
    private readonly rdbType: number,
  ) {
    this.shape = shapeOf(rdbType);
  }

  begin(_header: KeyHeader): number {
    const cur = this.ctx.cur;
    if (this.rdbType === RDB_TYPE.HASH_LISTPACK_EX) cur.skip(8); // min-expire: redundant with the fields' own
    const at = cur.pos;
    const blob = cur.string();
    const items = cur.decodeBlob((b, base) => this.decode(b, base), blob, at);
    const per = this.shape === 'hash-ttl' ? 3 : this.shape === 'zset' || this.shape === 'hash' ? 2 : 1;
    if (items.length % per !== 0) {
      throw cur.error(
        `${describeType(this.rdbType)} holds ${items.length} entries, not a multiple of ${per}`,
        cur.at(at),
      );
    }
    this.items = items;
    return items.length / per;
  }

  private decode(blob: Buffer, base: number): Buffer[] {
    switch (this.rdbType) {
      case RDB_TYPE.HASH_ZIPMAP:
        return decodeZipmap(blob, base);
      case RDB_TYPE.SET_INTSET:
        return decodeIntset(blob, base);
      case RDB_TYPE.LIST_ZIPLIST:
      case RDB_TYPE.ZSET_ZIPLIST:
      case RDB_TYPE.HASH_ZIPLIST:
        return decodeZiplist(blob, base);
      default:
        return decodeListpack(blob, base);
    }
  }

  step(): void {
    const items = this.items;
    this.items = [];
    const size = this.ctx.batchSize;
    switch (this.shape) {
      case 'list':
      case 'set':
        for (let i = 0; i < items.length; i += size) {
          const part = i === 0 && items.length <= size ? items : items.slice(i, i + size);
          if (this.shape === 'list') this.ctx.emit({ kind: 'list-items', items: part });
          else this.ctx.emit({ kind: 'set-members', members: part });
        }
        return;
      case 'zset':
        this.emitZset(items, size);
        return;
      default:
        this.emitHash(items, size);
    }
  }

  private emitZset(items: Buffer[], size: number): void {
    let batch: ZsetEntry[] = [];
    for (let i = 0; i < items.length; i += 2) {
      const score = parseScore(items[i + 1]!);
      if (Number.isNaN(score)) throw this.ctx.cur.error('invalid sorted set score in a compact zset');
      batch.push({ member: items[i]!, score });
      if (batch.length >= size) {
        this.ctx.emit({ kind: 'zset-entries', entries: batch });
        batch = [];
      }
    }
    if (batch.length > 0) this.ctx.emit({ kind: 'zset-entries', entries: batch });
  }

  private emitHash(items: Buffer[], size: number): void {
    const withTtl = this.shape === 'hash-ttl';
    const per = withTtl ? 3 : 2;
    let batch: HashEntry[] = [];
    for (let i = 0; i < items.length; i += per) {
      if (withTtl) {
        const ttl = entryInt(items[i + 2]!);
        if (ttl === null || ttl < 0) throw this.ctx.cur.error('invalid hash field expire time in a listpack');
        batch.push({ field: items[i]!, value: items[i + 1]!, expireAtMs: ttl === 0 ? null : ttl });
      } else {
        batch.push({ field: items[i]!, value: items[i + 1]! });
      }
      if (batch.length >= size) {
        this.ctx.emit({ kind: 'hash-entries', entries: batch });
        batch = [];
      }
    }
    if (batch.length > 0) this.ctx.emit({ kind: 'hash-entries', entries: batch });
  }
}

function describeType(rdbType: number): string {
  for (const [name, id] of Object.entries(RDB_TYPE)) if (id === rdbType) return `${name} value`;
  return `type ${rdbType} value`;
}
