/**
 * Wire constants of the RDB format, named as in Redis's src/rdb.h (RDB_TYPE_*, RDB_OPCODE_*).
 * The numeric value beside each name is the byte that appears in the file.
 */

/** Value type ids written before each key (Redis). Valkey-specific ids live in VALKEY_TYPE. */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;
export type RdbTypeId = (typeof RDB_TYPE)[keyof typeof RDB_TYPE];

/** Special opcodes that may appear where a value type is expected. */
export const RDB_OPCODE = {
  SLOT_INFO: 244,
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** Length-encoding prefixes (top two bits of the first length byte), rdb.h RDB_6BITLEN etc. */
export const RDB_LEN = {
  BITS6: 0,
  BITS14: 1,
  /** 0x80: 32-bit big-endian length follows */
  BITS32: 0x80,
  /** 0x81: 64-bit big-endian length follows */
  BITS64: 0x81,
  ENCVAL: 3,
} as const;

/** Special string encodings (RDB_ENCVAL + one of these in the low 6 bits). */
export const RDB_ENC = {
  INT8: 0,
  INT16: 1,
  INT32: 2,
  LZF: 3,
} as const;

/** Module value opcodes (rdb.h RDB_MODULE_OPCODE_*). */
export const RDB_MODULE_OPCODE = {
  EOF: 0,
  SINT: 1,
  UINT: 2,
  FLOAT: 3,
  DOUBLE: 4,
  STRING: 5,
} as const;

/** Quicklist 2 node containers (quicklist.h QUICKLIST_NODE_CONTAINER_*). */
export const QUICKLIST_NODE_CONTAINER = {
  PLAIN: 1,
  PACKED: 2,
} as const;

/** Highest RDB version of each Redis release line that this library knows how to write for. */
export const REDIS_RDB_VERSION = {
  '2.6': 6,
  '2.8': 6,
  '3.0': 6,
  '3.2': 7,
  '4.0': 8,
  '5.0': 9,
  '6.0': 9,
  '6.2': 9,
  '7.0': 10,
  '7.2': 11,
  '7.4': 12,
  '8.0': 12,
} as const;
