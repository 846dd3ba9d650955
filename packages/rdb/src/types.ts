/**
 * The value model shared by the parser (bytes -> events) and the writer (events -> bytes).
 *
 * A key is always reported as `key-start`, zero or more value events, then `key-end`, so a
 * collection with millions of elements arrives in bounded batches and never sits in memory whole.
 * Buffers inside events are never overwritten by the parser after they are handed out; they may be
 * views into a larger chunk, so copy them if you keep many of them for long.
 */

/** The logical Redis type, as TYPE reports it (modules: 'module'). */
export type RedisType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module';

/**
 * How the value is stored in the RDB. Names follow Redis's own words:
 * string: 'raw' | 'int' | 'lzf'; list: 'linkedlist' | 'ziplist' | 'quicklist' | 'quicklist2';
 * set: 'hashtable' | 'intset' | 'listpack'; zset: 'skiplist' | 'ziplist' | 'listpack';
 * hash: 'hashtable' | 'zipmap' | 'ziplist' | 'listpack' | 'listpackex' | 'metadata';
 * stream: 'listpacks' | 'listpacks2' | 'listpacks3'; module: 'module'.
 */
export type RdbEncoding = string;

export interface KeyHeader {
  db: number;
  key: Buffer;
  type: RedisType;
  /** The wire type id (RDB_TYPE_* or a Valkey id); together with the RDB version it says how the value is laid out. */
  rdbType: number;
  encoding: RdbEncoding;
  /** Absolute expiry in Unix milliseconds, or null. */
  expireAtMs: number | null;
  /** LRU idle time in seconds (IDLE opcode), when present. */
  idle?: number;
  /** LFU log-counter (FREQ opcode), when present. */
  freq?: number;
  /** Byte offset of this key's record in the input (the first opcode that belongs to it). */
  offset: number;
}

export interface ZsetEntry {
  member: Buffer;
  /** IEEE double; exact for binary scores, correctly rounded (strtod) for string scores. */
  score: number;
}

export interface HashEntry {
  field: Buffer;
  value: Buffer;
  /** Per-field absolute expiry (Redis 7.4+ hash field TTL), unix ms; absent or null when none. */
  expireAtMs?: number | null;
}

/** A stream id. ms and seq are unsigned 64-bit. */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamEntry {
  id: StreamId;
  /** field/value pairs in entry order */
  fields: [Buffer, Buffer][];
}

export interface StreamMeta {
  /** Number of live entries (XLEN). */
  length: number;
  lastId: StreamId;
  /** RDB stream v2+ (Redis 7.0); null before. */
  firstId: StreamId | null;
  maxDeletedEntryId: StreamId | null;
  entriesAdded: number | null;
}

export interface StreamPendingEntry {
  id: StreamId;
  /** Name of the consumer that owns it (resolved from the consumers' PELs). */
  consumer: Buffer | null;
  deliveryTimeMs: number;
  deliveryCount: number;
}

export interface StreamConsumer {
  name: Buffer;
  seenTimeMs: number;
  /** RDB stream v3+ (Redis 7.2); null before. */
  activeTimeMs: number | null;
  pel: StreamId[];
}

export interface StreamGroup {
  name: Buffer;
  lastId: StreamId;
  /** RDB stream v2+; null when unknown or not stored. */
  entriesRead: number | null;
  pel: StreamPendingEntry[];
  consumers: StreamConsumer[];
}

/** One module value or module aux payload, kept as the exact bytes Redis wrote (for RESTORE) plus a summary. */
export interface ModuleValue {
  moduleId: bigint;
  /** The 9-character module type name decoded from the id (e.g. "ReJSON-RL"). */
  name: string;
  /** Module type encoding version (low 10 bits of the id). */
  encver: number;
  /** The serialized value exactly as in the RDB, starting with the 64-bit module id. */
  raw: Buffer;
}

export type RdbEvent =
  | { kind: 'header'; magic: 'REDIS' | 'VALKEY'; version: number; offset: number }
  | { kind: 'aux'; key: Buffer; value: Buffer; offset: number }
  | { kind: 'select-db'; db: number; offset: number }
  | { kind: 'resize-db'; dbSize: number; expiresSize: number; offset: number }
  | { kind: 'slot-info'; slot: number; slotSize: number; expiresSlotSize: number; offset: number }
  /** FUNCTION2: the library source code as FUNCTION LOAD takes it. */
  | { kind: 'function'; code: Buffer; offset: number }
  /** FUNCTION_PRE_GA (7.0 release candidates): name, engine, description and code. */
  | {
      kind: 'function-pre-ga';
      name: Buffer;
      engine: Buffer;
      description: Buffer | null;
      code: Buffer;
      offset: number;
    }
  | { kind: 'module-aux'; module: ModuleValue; when: number; offset: number }
  | { kind: 'key-start'; header: KeyHeader; /** element count when the format states it up front */ length?: number }
  | { kind: 'string'; value: Buffer }
  | { kind: 'list-items'; items: Buffer[] }
  | { kind: 'set-members'; members: Buffer[] }
  | { kind: 'zset-entries'; entries: ZsetEntry[] }
  | { kind: 'hash-entries'; entries: HashEntry[] }
  | { kind: 'stream-entries'; entries: StreamEntry[] }
  | { kind: 'stream-meta'; meta: StreamMeta }
  | { kind: 'stream-group'; group: StreamGroup }
  | { kind: 'module'; value: ModuleValue }
  | {
      kind: 'key-end';
      header: KeyHeader;
      /**
       * The serialized value (what follows the type byte in the RDB, i.e. a DUMP payload body) when
       * the parser was asked to capture values up to `captureRawLimit` bytes and this one fit.
       */
      raw?: Buffer;
      /**
       * The whole DUMP payload `raw` came in (type byte, body, RDB version, CRC64), set by a source that read the
       * value with DUMP and did NOT check its CRC: a Redis sink may RESTORE it as it is where the target writes
       * the same RDB version (the target checks the CRC); any other use of `raw` must check it first
       * (verifyDumpPayload).
       */
      payload?: Buffer;
    }
  | {
      kind: 'end';
      offset: number;
      /** null when the file has no checksum (RDB < 5) or it was written with rdbchecksum no (zero). */
      checksum: { stored: bigint; computed: bigint } | null;
    };

export type RdbEventKind = RdbEvent['kind'];

/** The keySink option of RdbParserOptions. Ranges are valid only during the call. */
export interface KeySink {
  /** A key's name as buf[start, end), its db, its value's RDB type byte and its absolute expiry (ms; null: none). */
  key(buf: Buffer, start: number, end: number, db: number, rdbType: number, expireAtMs: number | null): void;
  /**
   * The same key's serialized value (its bytes after the name, as captured) as buf[start, end); buf null when it
   * was not captured (larger than captureRawLimit).
   */
  value(buf: Buffer | null, start: number, end: number, rdbType: number): void;
}

export interface RdbParserOptions {
  /** Verify the trailing CRC64 and throw RdbError on mismatch (default true). */
  verifyChecksum?: boolean;
  /**
   * Compute the CRC64 at all (default true). false: for a reader whose result does not rest on the bytes being
   * intact (shake check's snapshot join compares every key that does not agree live); nothing is verified and
   * the end event's checksum is null.
   */
  checksum?: boolean;
  /**
   * Keys only (needs values: false), without an event or a Buffer per key: each key goes to keySink.key when its
   * name is read and keySink.value when its value ends, instead of key-start and key-end events (the other
   * events, aux, select-db, end..., are reported as usual). For a reader that hashes or
   * copies every key of a big file (shake check's snapshot join). An error inside a value names its offset but
   * not its key.
   */
  keySink?: KeySink;
  /** Elements per list-items / set-members / zset-entries / hash-entries / stream-entries event (default 1024). */
  batchSize?: number;
  /** Capture the serialized bytes of values up to this size into key-end.raw (default 0: off). */
  captureRawLimit?: number;
  /** Largest single string / listpack / ziplist the parser accepts before calling the input hostile (default 1 GiB). */
  maxElementSize?: number;
  /**
   * Decode values (default true). false: keys only: each key is reported as key-start (with `length` when
   * the value's header states it) and key-end, and its value's bytes are skipped (still checksummed and
   * captured) without creating element Buffers, decompressing or decoding ziplists/listpacks/intsets,
   * whose contents are then not validated either. For `--format keys`-like consumers.
   */
  values?: boolean;
  /** Parse a DUMP payload body instead of a file: no header, no opcodes. Used by parseDumpPayload. */
}

/** The events that carry (part of) one key's value, between its key-start and key-end. */
export type RdbValueEvent = Extract<
  RdbEvent,
  {
    kind:
      | 'string'
      | 'list-items'
      | 'set-members'
      | 'zset-entries'
      | 'hash-entries'
      | 'stream-entries'
      | 'stream-meta'
      | 'stream-group'
      | 'module';
  }
>;

const VALUE_EVENT_KINDS: ReadonlySet<string> = new Set<RdbValueEvent['kind']>([
  'string',
  'list-items',
  'set-members',
  'zset-entries',
  'hash-entries',
  'stream-entries',
  'stream-meta',
  'stream-group',
  'module',
]);

/** True for the value events of a key (everything between key-start and key-end). */
export function isValueEvent(e: { kind: string }): e is RdbValueEvent {
  return VALUE_EVENT_KINDS.has(e.kind);
}
