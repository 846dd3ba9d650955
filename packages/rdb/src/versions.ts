/**
 * Which RDB version each server release writes, and which RDB type ids a given RDB version can load.
 *
 * Sources (read, not copied): redis/redis src/rdb.h (RDB_VERSION per release tag, RDB_TYPE_* comments),
 * src/rdb.c rdbLoadObject, src/cluster.c verifyDumpPayload (a DUMP payload is refused when its 2-byte
 * version is greater than the server's RDB_VERSION); valkey-io/valkey src/rdb.h (Valkey 7.2/8.x write
 * RDB 11; Valkey 9 writes RDB 80 with the magic "VALKEY" and treats 12..79 as the "foreign" range
 * used by Redis CE 7.4+, which it refuses by default).
 *
 * RDB version history (type ids introduced): 2: 9-12 (zipmap, ziplist list, intset, ziplist zset);
 * 3: EXPIRETIME_MS; 4: 13 (ziplist hash); 5: CRC64 trailer; 6: new ziplist int encodings (2.6);
 * 7: 14 quicklist, AUX, RESIZEDB (3.2); 8: 5 ZSET_2, 7 MODULE_2 (4.0); 9: 15 streams, IDLE/FREQ,
 * MODULE_AUX (5.0); 10: 16-19 listpacks, quicklist 2, stream v2, FUNCTION2 (7.0); 11: 20 set listpack,
 * 21 stream v3 (7.2); 12: 22-25 hash field TTLs (7.4).
 */
import { RDB_TYPE } from './constants.js';

/** Valkey 9.0+ file magic; files from older servers start with "REDIS". */
export const VALKEY_MAGIC_MIN_VERSION = 80;

/** RDB versions 12..79 are Redis CE 7.4+ ("foreign" to Valkey 9, which refuses them by default). */
export const RDB_FOREIGN_VERSION_MIN = 12;
export const RDB_FOREIGN_VERSION_MAX = 79;

const MIN_VERSION_BY_TYPE: ReadonlyMap<number, number> = new Map<number, number>([
  [RDB_TYPE.STRING, 1],
  [RDB_TYPE.LIST, 1],
  [RDB_TYPE.SET, 1],
  [RDB_TYPE.ZSET, 1],
  [RDB_TYPE.HASH, 1],
  [RDB_TYPE.HASH_ZIPMAP, 2],
  [RDB_TYPE.LIST_ZIPLIST, 2],
  [RDB_TYPE.SET_INTSET, 2],
  [RDB_TYPE.ZSET_ZIPLIST, 2],
  [RDB_TYPE.HASH_ZIPLIST, 4],
  [RDB_TYPE.LIST_QUICKLIST, 7],
  [RDB_TYPE.ZSET_2, 8],
  [RDB_TYPE.MODULE_2, 8],
  [RDB_TYPE.STREAM_LISTPACKS, 9],
  [RDB_TYPE.HASH_LISTPACK, 10],
  [RDB_TYPE.ZSET_LISTPACK, 10],
  [RDB_TYPE.LIST_QUICKLIST_2, 10],
  [RDB_TYPE.STREAM_LISTPACKS_2, 10],
  [RDB_TYPE.SET_LISTPACK, 11],
  [RDB_TYPE.STREAM_LISTPACKS_3, 11],
  [RDB_TYPE.HASH_METADATA_PRE_GA, 12],
  [RDB_TYPE.HASH_LISTPACK_EX_PRE_GA, 12],
  [RDB_TYPE.HASH_METADATA, 12],
  [RDB_TYPE.HASH_LISTPACK_EX, 12],
]);

/**
 * The first RDB version whose loader accepts this type id (Redis numbering), or null when no released
 * server loads it (6: MODULE_PRE_GA, "Pre-release module format not supported") or the id is unknown.
 */
export function minRdbVersionForType(rdbType: number): number | null {
  return MIN_VERSION_BY_TYPE.get(rdbType) ?? null;
}

/** True for versions written by Valkey 9+ (magic "VALKEY"). */
export function isValkeyRdbVersion(rdbVersion: number): boolean {
  return rdbVersion >= VALKEY_MAGIC_MIN_VERSION;
}

/** True for the Redis CE 7.4+ range that Valkey 9 calls foreign. */
export function isForeignRdbVersion(rdbVersion: number): boolean {
  return rdbVersion >= RDB_FOREIGN_VERSION_MIN && rdbVersion <= RDB_FOREIGN_VERSION_MAX;
}

/** The 5- or 6-byte magic that starts a file of this version ("REDIS" or "VALKEY"). */
export function rdbMagicFor(rdbVersion: number): 'REDIS' | 'VALKEY' {
  return isValkeyRdbVersion(rdbVersion) ? 'VALKEY' : 'REDIS';
}

/**
 * The 9-byte file header: "REDIS" + 4 digits, or "VALKEY" + 3 digits (Valkey 9: "VALKEY080").
 */
export function rdbHeaderFor(rdbVersion: number): Buffer {
  if (!Number.isInteger(rdbVersion) || rdbVersion < 1 || rdbVersion > 999) {
    throw new RangeError(`RDB version out of range: ${rdbVersion}`);
  }
  return isValkeyRdbVersion(rdbVersion)
    ? Buffer.from(`VALKEY${String(rdbVersion).padStart(3, '0')}`, 'latin1')
    : Buffer.from(`REDIS${String(rdbVersion).padStart(4, '0')}`, 'latin1');
}

/** [major, minor] of the Redis release lines and the RDB version their GA releases write. */
const REDIS_LINES: readonly [number, number, number][] = [
  [2, 6, 6],
  [2, 8, 6],
  [3, 0, 6],
  [3, 2, 7],
  [4, 0, 8],
  [5, 0, 9],
  [6, 0, 9],
  [6, 2, 9],
  [7, 0, 10],
  [7, 2, 11],
  [7, 4, 12],
];

/** Valkey 7.2 and 8.x write RDB 11, Valkey 9+ writes 80. */
const VALKEY_LINES: readonly [number, number, number][] = [
  [7, 2, 11],
  [8, 0, 11],
  [8, 1, 11],
  [9, 0, 80],
];

function parseVersion(version: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new RangeError(`not a server version: ${JSON.stringify(version)}`);
  return [Number(m[1]), Number(m[2])];
}

function lookup(lines: readonly [number, number, number][], major: number, minor: number): number | null {
  let found: number | null = null;
  for (const [ma, mi, rdb] of lines) {
    if (major > ma || (major === ma && minor >= mi)) found = rdb;
  }
  return found;
}

/**
 * The RDB version a Redis release writes: rdbVersionForRedis("7.0.15") === 10. Releases newer than the
 * last known line (7.4: 12; 8.0 still writes 12) map to the last known version. Null before 2.6.
 * Redis 8.0 milestone builds report redis_version 7.9.x: they map to 12 as well.
 */
export function rdbVersionForRedis(version: string): number | null {
  const [major, minor] = parseVersion(version);
  return lookup(REDIS_LINES, major, minor);
}

/** The RDB version a Valkey release writes (valkey_version): 8.0.1 => 11, 9.0.0 => 80. */
export function rdbVersionForValkey(version: string): number | null {
  const [major, minor] = parseVersion(version);
  return lookup(VALKEY_LINES, major, minor);
}

/**
 * Is this type id, as found in a payload of `payloadRdbVersion`, one the target's loader knows?
 * Type ids 22..25 mean Redis hash-field-TTL layouts in Redis payloads (RDB 12..79); Valkey 9 (RDB 80)
 * reuses 22 for its own field-TTL hash, so the two are never interchangeable.
 */
export function isTypeLoadableBy(rdbType: number, payloadRdbVersion: number, targetRdbVersion: number): boolean {
  const min = minRdbVersionForType(rdbType);
  if (min === null) return false;
  const redisHfe = rdbType >= RDB_TYPE.HASH_METADATA_PRE_GA && rdbType <= RDB_TYPE.HASH_LISTPACK_EX;
  if (redisHfe) {
    // Redis layouts: loadable by Redis 7.4+ only; Valkey-9 payload ids in this range mean something else.
    if (isValkeyRdbVersion(payloadRdbVersion) || isValkeyRdbVersion(targetRdbVersion)) return false;
  }
  return targetRdbVersion >= min;
}

/**
 * Can a server writing `targetRdbVersion` RESTORE (or load) a value of `rdbType` stamped with
 * `payloadRdbVersion`, as is? Both must hold: the type is known to the target's loader, and the
 * stamped version is not newer than the target's (verifyDumpPayload refuses `rdbver > RDB_VERSION`).
 * Valkey 9 targets also refuse payloads from the foreign range 12..79 (strict rdb-version-check).
 * When only the version check fails, relabelDumpPayload() can restamp the same bytes for the target.
 */
export function canTargetLoad(rdbType: number, payloadRdbVersion: number, targetRdbVersion: number): boolean {
  // Valkey 9 refuses the Redis CE 7.4+ range unless rdb-version-check is relaxed.
  if (isValkeyRdbVersion(targetRdbVersion) && isForeignRdbVersion(payloadRdbVersion)) return false;
  return payloadRdbVersion <= targetRdbVersion && isTypeLoadableBy(rdbType, payloadRdbVersion, targetRdbVersion);
}
