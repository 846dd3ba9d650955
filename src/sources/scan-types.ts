/**
 * The logical type and the encoding name (types.ts words) of a value from its RDB type id, as found in
 * the first byte of a DUMP payload. Valkey 9 ids (RDB 80+) are not told apart here: the scan source only
 * labels keys; the bytes are copied as they are.
 */
import { RDB_TYPE } from '@shake/rdb';

export interface ScanKeyType {
  type: 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module';
  encoding: string;
}

const TABLE = new Map<number, ScanKeyType>([
  [RDB_TYPE.STRING, { type: 'string', encoding: 'raw' }],
  [RDB_TYPE.LIST, { type: 'list', encoding: 'linkedlist' }],
  [RDB_TYPE.SET, { type: 'set', encoding: 'hashtable' }],
  [RDB_TYPE.ZSET, { type: 'zset', encoding: 'skiplist' }],
  [RDB_TYPE.HASH, { type: 'hash', encoding: 'hashtable' }],
  [RDB_TYPE.ZSET_2, { type: 'zset', encoding: 'skiplist' }],
  [RDB_TYPE.MODULE_PRE_GA, { type: 'module', encoding: 'module' }],
  [RDB_TYPE.MODULE_2, { type: 'module', encoding: 'module' }],
  [RDB_TYPE.HASH_ZIPMAP, { type: 'hash', encoding: 'zipmap' }],
  [RDB_TYPE.LIST_ZIPLIST, { type: 'list', encoding: 'ziplist' }],
  [RDB_TYPE.SET_INTSET, { type: 'set', encoding: 'intset' }],
  [RDB_TYPE.ZSET_ZIPLIST, { type: 'zset', encoding: 'ziplist' }],
  [RDB_TYPE.HASH_ZIPLIST, { type: 'hash', encoding: 'ziplist' }],
  [RDB_TYPE.LIST_QUICKLIST, { type: 'list', encoding: 'quicklist' }],
  [RDB_TYPE.STREAM_LISTPACKS, { type: 'stream', encoding: 'listpacks' }],
  [RDB_TYPE.HASH_LISTPACK, { type: 'hash', encoding: 'listpack' }],
  [RDB_TYPE.ZSET_LISTPACK, { type: 'zset', encoding: 'listpack' }],
  [RDB_TYPE.LIST_QUICKLIST_2, { type: 'list', encoding: 'quicklist2' }],
  [RDB_TYPE.STREAM_LISTPACKS_2, { type: 'stream', encoding: 'listpacks2' }],
  [RDB_TYPE.SET_LISTPACK, { type: 'set', encoding: 'listpack' }],
  [RDB_TYPE.STREAM_LISTPACKS_3, { type: 'stream', encoding: 'listpacks3' }],
  [RDB_TYPE.HASH_METADATA_PRE_GA, { type: 'hash', encoding: 'metadata' }],
  [RDB_TYPE.HASH_LISTPACK_EX_PRE_GA, { type: 'hash', encoding: 'listpackex' }],
  [RDB_TYPE.HASH_METADATA, { type: 'hash', encoding: 'metadata' }],
  [RDB_TYPE.HASH_LISTPACK_EX, { type: 'hash', encoding: 'listpackex' }],
]);

export function scanTypeOfRdbType(rdbType: number): ScanKeyType {
  const t = TABLE.get(rdbType);
  if (!t) throw new Error(`DUMP payload of unknown RDB type ${rdbType}`);
  return t;
}
