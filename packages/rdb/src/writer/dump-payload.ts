/**
 * DUMP payloads (cluster.c createDumpPayload / verifyDumpPayload): the type byte, the serialized value
 * body, the 2-byte little-endian RDB version, then CRC64 (little endian) of everything before it.
 * Built as a chunk list so a big body is never copied into one buffer here.
 */
import { Crc64 } from '../encodings/index.js';
import { RdbError } from '../errors.js';
import { isTypeLoadableBy } from '../versions.js';

/** Bytes a DUMP payload adds after the body: 2 (version) + 8 (CRC64). */
export const DUMP_FOOTER_SIZE = 10;

function footer(crc: Crc64, rdbVersion: number): Buffer {
  if (!Number.isInteger(rdbVersion) || rdbVersion < 0 || rdbVersion > 0xffff) {
    throw new RangeError(`RDB version out of range for a DUMP payload: ${rdbVersion}`);
  }
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
  if (!Number.isInteger(rdbType) || rdbType < 0 || rdbType > 255) {
    throw new RangeError(`RDB type out of range: ${rdbType}`);
  }
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

/** buildDumpPayload as one Buffer (small values, tests). */
export function buildDumpPayloadBuffer(rdbType: number, body: Buffer | readonly Buffer[], rdbVersion: number): Buffer {
  return Buffer.concat(buildDumpPayload(rdbType, body, rdbVersion));
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

/** The parts of a DUMP payload, after checking its footer. Throws RdbError when it is malformed. */
export interface DumpPayloadParts {
  rdbType: number;
  body: Buffer;
  rdbVersion: number;
}

/** Splits a DUMP payload (as DUMP returns it) into type, body and version, verifying the CRC64. */
export function splitDumpPayload(payload: Buffer): DumpPayloadParts {
  if (payload.length < 1 + DUMP_FOOTER_SIZE) {
    throw new RdbError(`DUMP payload too short: ${payload.length} bytes`, 0);
  }
  const end = payload.length - DUMP_FOOTER_SIZE;
  const crc = new Crc64().update(payload, 0, payload.length - 8).digestLE();
  if (!crc.equals(payload.subarray(payload.length - 8))) {
    throw new RdbError('DUMP payload CRC64 mismatch', payload.length - 8);
  }
  return {
    rdbType: payload[0]!,
    body: payload.subarray(1, end),
    rdbVersion: payload.readUInt16LE(end),
  };
}
