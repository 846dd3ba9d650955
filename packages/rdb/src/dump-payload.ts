/**
 * DUMP payloads, in ONE module (cluster.c createDumpPayload / verifyDumpPayload): the value type byte, the
 * serialized value body (as in an RDB file, without the key), the RDB version as 2 little-endian bytes, then
 * the CRC64 of everything before it as 8 little-endian bytes. RESTORE refuses a payload whose version is newer
 * than the server's; there is no magic, so versions >= 80 are Valkey's.
 *   build:   buildDumpPayload (a chunk list, a big body is never copied), buildDumpPayloadBuffer (one
 *            allocation: the per-key hot path of restore), relabelDumpPayload (restamp a body for a target);
 *   verify:  splitDumpPayload (footer + CRC64 -> type, body, version);
 *   decode:  dumpBodyEvents (a body's value events, streamed slice by slice), parseDumpPayload (all of it).
 */
import { Crc64 } from './encodings/index.js';
import { RdbError } from './errors.js';
import type { RdbEvent, RdbParserOptions } from './types.js';
import { RdbParser } from './parser/rdb-parser.js';
import { MAX_KNOWN_REDIS_RDB_VERSION, MAX_KNOWN_VALKEY_RDB_VERSION, VALKEY_RDB_VERSION_MIN } from './parser/layouts.js';
import { isTypeLoadableBy } from './versions.js';

/** Bytes a DUMP payload adds after the body: 2 (version) + 8 (CRC64). */
export const DUMP_FOOTER_SIZE = 10;

// ---- build ----

function checkType(rdbType: number): void {
  if (!Number.isInteger(rdbType) || rdbType < 0 || rdbType > 255)
    throw new RangeError(`RDB type out of range: ${rdbType}`);
}

function checkVersion(rdbVersion: number): void {
  if (!Number.isInteger(rdbVersion) || rdbVersion < 0 || rdbVersion > 0xffff) {
    throw new RangeError(`RDB version out of range for a DUMP payload: ${rdbVersion}`);
  }
}

function footer(crc: Crc64, rdbVersion: number): Buffer {
  checkVersion(rdbVersion);
  const out = Buffer.allocUnsafe(DUMP_FOOTER_SIZE);
  out.writeUInt16LE(rdbVersion, 0);
  crc.update(out, 0, 2);
  crc.digestLE().copy(out, 2);
  return out;
}

/**
 * [type byte, ...body chunks, version + crc]: a DUMP payload for RESTORE, as a chunk list
 * (hand it to a RESP encoder as one bulk string made of these pieces, or Buffer.concat it when small).
 */
export function buildDumpPayload(rdbType: number, body: Buffer | readonly Buffer[], rdbVersion: number): Buffer[] {
  checkType(rdbType);
  const head = Buffer.from([rdbType]);
  const crc = new Crc64().update(head);
  const parts: Buffer[] = [head];
  for (const chunk of Buffer.isBuffer(body) ? [body] : body) {
    crc.update(chunk);
    parts.push(chunk);
  }
  parts.push(footer(crc, rdbVersion));
  return parts;
}

/** buildDumpPayload as one Buffer, written in place in one allocation (small values, the per-key RESTORE path). */
export function buildDumpPayloadBuffer(rdbType: number, body: Buffer | readonly Buffer[], rdbVersion: number): Buffer {
  let n = 0;
  for (const c of Buffer.isBuffer(body) ? [body] : body) n += c.length;
  const out = Buffer.allocUnsafe(dumpPayloadLength(n));
  writeDumpPayload(out, 0, rdbType, body, rdbVersion);
  return out;
}

/** Bytes of the DUMP payload of a body of `bodyLength` bytes. */
export function dumpPayloadLength(bodyLength: number): number {
  return 1 + bodyLength + DUMP_FOOTER_SIZE;
}

const payloadCrc = new Crc64();

/**
 * Writes the DUMP payload of `body` at `offset` in `target` (the caller ensures room: dumpPayloadLength), e.g.
 * straight into a batch of RESTORE commands; returns the end.
 */
export function writeDumpPayload(
  target: Buffer,
  offset: number,
  rdbType: number,
  body: Buffer | readonly Buffer[],
  rdbVersion: number,
): number {
  checkType(rdbType);
  checkVersion(rdbVersion);
  target[offset] = rdbType;
  let p = offset + 1;
  if (!Buffer.isBuffer(body)) for (const c of body) p += c.copy(target, p);
  else {
    // TypedArray set: one builtin memmove (a byte loop costs 2-3 ns a byte, Buffer#copy 30-40 ns of checks)
    target.set(body, p);
    p += body.length;
  }
  target.writeUInt16LE(rdbVersion, p);
  p += 2;
  return payloadCrc.reset().update(target, offset, p).writeLE(target, p);
}

/**
 * Restamps a value body captured by the parser (key-end.raw: the bytes that followed the type byte) for a
 * target RDB version: same bytes, new version, new CRC. Throws RdbError when the target's loader does not
 * know this type id (re-encode from events, or use commands, instead).
 * `sourceRdbVersion` (the version the body was written with) decides what ids 22..25 mean; default: target.
 */
export function relabelDumpPayload(
  rdbType: number,
  rawBody: Buffer | readonly Buffer[],
  targetRdbVersion: number,
  sourceRdbVersion: number = targetRdbVersion,
): Buffer[] {
  if (!isTypeLoadableBy(rdbType, sourceRdbVersion, targetRdbVersion)) {
    throw new RdbError(
      `RDB type ${rdbType} (from RDB ${sourceRdbVersion}) cannot be loaded by a server writing RDB ${targetRdbVersion}`,
      0,
    );
  }
  return buildDumpPayload(rdbType, rawBody, targetRdbVersion);
}

// ---- verify ----

/** The RDB version a DUMP payload states in its footer (no check of anything else). */
export function dumpPayloadVersion(payload: Buffer): number {
  return payload.readUInt16LE(payload.length - DUMP_FOOTER_SIZE);
}

/** Checks a DUMP payload's footer and CRC64; throws RdbError when it is malformed or the CRC differs. */
export function verifyDumpPayload(payload: Buffer): void {
  splitDumpPayload(payload, true);
}

/** The parts of a DUMP payload, after checking its footer. */
export interface DumpPayloadParts {
  rdbType: number;
  body: Buffer;
  rdbVersion: number;
}

/**
 * Splits a DUMP payload (as DUMP returns it) into type, body and version, verifying its CRC64 unless
 * `verifyChecksum` is false. Throws RdbError when it is malformed.
 */
export function splitDumpPayload(payload: Buffer, verifyChecksum = true): DumpPayloadParts {
  if (payload.length < 1 + DUMP_FOOTER_SIZE)
    throw new RdbError(`DUMP payload of ${payload.length} bytes is too short`, 0);
  const end = payload.length - DUMP_FOOTER_SIZE;
  if (verifyChecksum) {
    const stored = payload.readBigUInt64LE(end + 2);
    const computed = new Crc64().update(payload, 0, end + 2).digest();
    if (stored !== computed) {
      throw new RdbError(
        `DUMP payload checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
        end + 2,
      );
    }
  }
  return { rdbType: payload[0]!, body: payload.subarray(1, end), rdbVersion: payload.readUInt16LE(end) };
}

/** True when this parser can read payloads written with this RDB version. */
export function isReadableDumpVersion(v: number): boolean {
  return (
    (v >= 1 && v <= MAX_KNOWN_REDIS_RDB_VERSION) || (v >= VALKEY_RDB_VERSION_MIN && v <= MAX_KNOWN_VALKEY_RDB_VERSION)
  );
}

// ---- decode ----

/** Bytes of a body handed to the parser at a time by dumpBodyEvents. */
const BODY_SLICE = 64 * 1024;

/**
 * The events of one value body (key-start .. key-end with db -1 and an empty key name), parsed as a server of
 * `rdbVersion` wrote it, yielded slice by slice so a big body's elements are never all in memory at once.
 * Throws RdbError on a bad or truncated value, or bytes left after it.
 */
export function* dumpBodyEvents(
  rdbType: number,
  body: Buffer,
  rdbVersion: number,
  opts: RdbParserOptions = {},
): Generator<RdbEvent[]> {
  const parser = RdbParser.forPayloadBody(rdbVersion, opts);
  yield parser.push(Buffer.of(rdbType));
  for (let at = 0; at < body.length && !parser.done; at += BODY_SLICE) {
    yield parser.push(body.subarray(at, at + BODY_SLICE));
  }
  if (!parser.done) yield parser.end(); // throws: the value is truncated
  if (parser.offset !== body.length + 1) {
    throw new RdbError(
      `DUMP payload has ${body.length + 1 - parser.offset} unexpected bytes after the value`,
      parser.offset,
    );
  }
}

export interface ParsedDumpPayload {
  rdbType: number;
  rdbVersion: number;
  /** key-start .. key-end of one key with db -1 and an empty key name. */
  events: RdbEvent[];
}

/** Check a DUMP payload's footer and parse its value. Throws RdbError on a bad footer or value. */
export function parseDumpPayload(payload: Buffer, opts: RdbParserOptions = {}): ParsedDumpPayload {
  const parts = splitDumpPayload(payload, opts.verifyChecksum ?? true);
  if (!isReadableDumpVersion(parts.rdbVersion)) {
    throw new RdbError(
      `DUMP payload RDB version ${parts.rdbVersion} is not one this parser reads`,
      payload.length - DUMP_FOOTER_SIZE,
    );
  }
  const events: RdbEvent[] = [];
  for (const batch of dumpBodyEvents(parts.rdbType, parts.body, parts.rdbVersion, opts)) events.push(...batch);
  return { rdbType: parts.rdbType, rdbVersion: parts.rdbVersion, events };
}
