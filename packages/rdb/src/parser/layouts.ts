/**
 * The value type table: wire type id -> logical type, encoding name and decoder. Redis and Valkey
 * agree on ids 0..21; from 22 on they differ, so the table is chosen by the file's magic/version:
 * Redis 7.4+ uses 22..25 for hashes with field TTLs (rdb.h RDB_TYPE_HASH_METADATA*, *_LISTPACK_EX*),
 * Valkey 9 (magic "VALKEY", RDB 80) uses 22 for RDB_TYPE_HASH_2 (field, value, expire triplets).
 */
import { RDB_TYPE } from '../constants.js';
import type { RedisType } from '../types.js';
import { BlobDecoder, StringDecoder } from './blobs.js';
import {
  HASH_LAYOUT,
  HashtableHashDecoder,
  HashtableSetDecoder,
  LinkedListDecoder,
  SkiplistZsetDecoder,
} from './collections.js';
import type { DecodeContext, ValueDecoder } from './context.js';
import { ModuleDecoder } from './module.js';
import { QuicklistDecoder } from './quicklist.js';
import { StreamDecoder } from './stream.js';

/** Valkey-only value type ids (valkey src/rdb.h, 9.0+ under the "VALKEY" magic). */
export const VALKEY_TYPE = {
  HASH_2: 22,
} as const;

export interface ValueLayout {
  type: RedisType;
  encoding: string;
  make(ctx: DecodeContext): ValueDecoder;
}

function layout(type: RedisType, encoding: string, make: (ctx: DecodeContext) => ValueDecoder): ValueLayout {
  return { type, encoding, make };
}

const blob = (type: RedisType, encoding: string, id: number): ValueLayout =>
  layout(type, encoding, (ctx) => new BlobDecoder(ctx, id));

const COMMON: ReadonlyMap<number, ValueLayout> = new Map<number, ValueLayout>([
  [RDB_TYPE.STRING, layout('string', 'raw', (ctx) => new StringDecoder(ctx))],
  [RDB_TYPE.LIST, layout('list', 'linkedlist', (ctx) => new LinkedListDecoder(ctx))],
  [RDB_TYPE.SET, layout('set', 'hashtable', (ctx) => new HashtableSetDecoder(ctx))],
  [RDB_TYPE.ZSET, layout('zset', 'skiplist', (ctx) => new SkiplistZsetDecoder(ctx, false))],
  [RDB_TYPE.HASH, layout('hash', 'hashtable', (ctx) => new HashtableHashDecoder(ctx, HASH_LAYOUT.PLAIN))],
  [RDB_TYPE.ZSET_2, layout('zset', 'skiplist', (ctx) => new SkiplistZsetDecoder(ctx, true))],
  [RDB_TYPE.MODULE_PRE_GA, layout('module', 'module', (ctx) => new ModuleDecoder(ctx, true))],
  [RDB_TYPE.MODULE_2, layout('module', 'module', (ctx) => new ModuleDecoder(ctx, false))],
  [RDB_TYPE.HASH_ZIPMAP, blob('hash', 'zipmap', RDB_TYPE.HASH_ZIPMAP)],
  [RDB_TYPE.LIST_ZIPLIST, blob('list', 'ziplist', RDB_TYPE.LIST_ZIPLIST)],
  [RDB_TYPE.SET_INTSET, blob('set', 'intset', RDB_TYPE.SET_INTSET)],
  [RDB_TYPE.ZSET_ZIPLIST, blob('zset', 'ziplist', RDB_TYPE.ZSET_ZIPLIST)],
  [RDB_TYPE.HASH_ZIPLIST, blob('hash', 'ziplist', RDB_TYPE.HASH_ZIPLIST)],
  [RDB_TYPE.LIST_QUICKLIST, layout('list', 'quicklist', (ctx) => new QuicklistDecoder(ctx, false))],
  [RDB_TYPE.STREAM_LISTPACKS, layout('stream', 'listpacks', (ctx) => new StreamDecoder(ctx, 15))],
  [RDB_TYPE.HASH_LISTPACK, blob('hash', 'listpack', RDB_TYPE.HASH_LISTPACK)],
  [RDB_TYPE.ZSET_LISTPACK, blob('zset', 'listpack', RDB_TYPE.ZSET_LISTPACK)],
  [RDB_TYPE.LIST_QUICKLIST_2, layout('list', 'quicklist2', (ctx) => new QuicklistDecoder(ctx, true))],
  [RDB_TYPE.STREAM_LISTPACKS_2, layout('stream', 'listpacks2', (ctx) => new StreamDecoder(ctx, 19))],
  [RDB_TYPE.SET_LISTPACK, blob('set', 'listpack', RDB_TYPE.SET_LISTPACK)],
  [RDB_TYPE.STREAM_LISTPACKS_3, layout('stream', 'listpacks3', (ctx) => new StreamDecoder(ctx, 21))],
]);

const REDIS_ONLY: ReadonlyMap<number, ValueLayout> = new Map<number, ValueLayout>([
  [
    RDB_TYPE.HASH_METADATA_PRE_GA,
    layout('hash', 'metadata', (ctx) => new HashtableHashDecoder(ctx, HASH_LAYOUT.METADATA_PRE_GA)),
  ],
  [RDB_TYPE.HASH_LISTPACK_EX_PRE_GA, blob('hash', 'listpackex', RDB_TYPE.HASH_LISTPACK_EX_PRE_GA)],
  [RDB_TYPE.HASH_METADATA, layout('hash', 'metadata', (ctx) => new HashtableHashDecoder(ctx, HASH_LAYOUT.METADATA))],
  [RDB_TYPE.HASH_LISTPACK_EX, blob('hash', 'listpackex', RDB_TYPE.HASH_LISTPACK_EX)],
]);

const VALKEY_ONLY: ReadonlyMap<number, ValueLayout> = new Map<number, ValueLayout>([
  [VALKEY_TYPE.HASH_2, layout('hash', 'hashtable', (ctx) => new HashtableHashDecoder(ctx, HASH_LAYOUT.VALKEY_HASH_2))],
]);

/** One lookup per key: the layouts of every type id (a byte) of one magic, in an array indexed by the id. */
function byTypeId(only: ReadonlyMap<number, ValueLayout>): readonly (ValueLayout | undefined)[] {
  const table = new Array<ValueLayout | undefined>(256).fill(undefined);
  for (const [id, l] of [...COMMON, ...only]) table[id] = l;
  return table;
}
const REDIS_LAYOUTS = byTypeId(REDIS_ONLY);
const VALKEY_LAYOUTS = byTypeId(VALKEY_ONLY);

/** The layout of a value type id in a file with this magic, or undefined when the id is unknown. */
export function valueLayout(rdbType: number, valkey: boolean): ValueLayout | undefined {
  return (valkey ? VALKEY_LAYOUTS : REDIS_LAYOUTS)[rdbType];
}

/** Versions this parser reads: Redis 1..12 (later Redis versions are read as far as their types are known),
 * Valkey 80 ("VALKEY080"). */
export const MAX_KNOWN_REDIS_RDB_VERSION = 12;
export const VALKEY_RDB_VERSION_MIN = 80;
export const MAX_KNOWN_VALKEY_RDB_VERSION = 80;

/** The Redis type of a value type id (a DUMP payload's first byte), Redis's ids first; undefined when unknown. */
export function redisTypeOfRdbType(rdbType: number): RedisType | undefined {
  return (valueLayout(rdbType, false) ?? valueLayout(rdbType, true))?.type;
}
