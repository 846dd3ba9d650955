/**
 * DUMP payloads (cluster.c createDumpPayload / verifyDumpPayload): the value type byte, the serialized
 * value (as in an RDB file, without the key), the RDB version as 2 little-endian bytes, then the CRC64
 * of everything before it as 8 little-endian bytes. RESTORE refuses a payload whose version is newer
 * than the server's; there is no magic, so versions >= 80 are Valkey's.
 */
import { crc64 } from './encodings/index.js';
import { RdbError } from './errors.js';
import type { RdbEvent, RdbParserOptions } from './types.js';
import { RdbParser } from './parser/rdb-parser.js';
import { MAX_KNOWN_REDIS_RDB_VERSION, MAX_KNOWN_VALKEY_RDB_VERSION, VALKEY_RDB_VERSION_MIN } from './parser/layouts.js';

export interface ParsedDumpPayload {
  rdbType: number;
  rdbVersion: number;
  /** key-start .. key-end of one key with db -1 and an empty key name. */
  events: RdbEvent[];
}

/** True when this parser can read payloads written with this RDB version. */
export function isReadableDumpVersion(v: number): boolean {
  return (
    (v >= 1 && v <= MAX_KNOWN_REDIS_RDB_VERSION) || (v >= VALKEY_RDB_VERSION_MIN && v <= MAX_KNOWN_VALKEY_RDB_VERSION)
  );
}

/** Check a DUMP payload's footer and parse its value. Throws RdbError on a bad footer or value. */
export function parseDumpPayload(payload: Buffer, opts: RdbParserOptions = {}): ParsedDumpPayload {
  if (payload.length < 11) throw new RdbError(`DUMP payload of ${payload.length} bytes is too short`, 0);
  const footer = payload.length - 10;
  const rdbVersion = payload.readUInt16LE(footer);
  if (!isReadableDumpVersion(rdbVersion)) {
    throw new RdbError(`DUMP payload RDB version ${rdbVersion} is not one this parser reads`, footer);
  }
  if (opts.verifyChecksum ?? true) {
    const stored = payload.readBigUInt64LE(footer + 2);
    const computed = crc64(payload.subarray(0, footer + 2));
    if (stored !== computed) {
      throw new RdbError(
        `DUMP payload checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
        footer + 2,
      );
    }
  }
  const parser = RdbParser.forPayloadBody(rdbVersion, opts);
  const events = parser.push(payload.subarray(0, footer));
  if (!parser.done) {
    parser.end(); // throws: the value is truncated
  }
  if (parser.offset !== footer) {
    throw new RdbError(`DUMP payload has ${footer - parser.offset} unexpected bytes after the value`, parser.offset);
  }
  return { rdbType: payload[0]!, rdbVersion, events };
}
