/**
 * A DUMP payload for RESTORE from a value body, in ONE allocation: type byte, body, 2-byte LE RDB version,
 * CRC64 (LE) of all that (cluster.c createDumpPayload / verifyDumpPayload). The same bytes as
 * @shake/rdb's buildDumpPayload, without its chunk list: this is the per-key hot path of restore.
 */
import { Crc64 } from '@shake/rdb';

export function restorePayload(rdbType: number, body: Buffer, rdbVersion: number): Buffer {
  const n = body.length;
  const out = Buffer.allocUnsafe(n + 11);
  out[0] = rdbType;
  body.copy(out, 1);
  out.writeUInt16LE(rdbVersion, n + 1);
  new Crc64()
    .update(out, 0, n + 3)
    .digestLE()
    .copy(out, n + 3);
  return out;
}
