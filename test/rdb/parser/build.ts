/**
 * A tiny RDB byte builder for the layouts no fixture holds (Valkey 9, 7.4 release candidates, cluster
 * slot info, pre-GA functions): lengths and strings as rdb.c rdbSaveLen / rdbSaveRawString write them.
 * Independent of the package's writer on purpose.
 */
import { crc64 } from '@shake/rdb';

export function len(n: number | bigint): Buffer {
  const v = BigInt(n);
  if (v < 64n) return Buffer.from([Number(v)]);
  if (v < 16384n) return Buffer.from([0x40 | Number(v >> 8n), Number(v & 255n)]);
  if (v <= 0xffffffffn) {
    const b = Buffer.alloc(5);
    b[0] = 0x80;
    b.writeUInt32BE(Number(v), 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0x81;
  b.writeBigUInt64BE(v, 1);
  return b;
}

export function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return Buffer.concat([len(b.length), b]);
}

export function i64le(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(n));
  return b;
}

export function u8(...bytes: number[]): Buffer {
  return Buffer.from(bytes);
}

/** A whole file: header, body, EOF opcode and (version >= 5) the CRC64 of everything before it. */
export function rdbFile(
  magic: 'REDIS' | 'VALKEY',
  version: number,
  body: Buffer[],
  crc: 'real' | 'zero' = 'real',
): Buffer {
  const digits = String(version).padStart(magic === 'REDIS' ? 4 : 3, '0');
  const head = Buffer.concat([Buffer.from(magic + digits, 'latin1'), ...body, u8(0xff)]);
  if (version < 5) return head;
  return Buffer.concat([head, crc === 'zero' ? Buffer.alloc(8) : i64le(BigInt.asIntN(64, crc64(head)))]);
}

/** A DUMP payload: type byte, value body, 2-byte LE version, CRC64 of all that. */
export function dumpPayload(rdbType: number, body: Buffer, version: number): Buffer {
  const v = Buffer.alloc(2);
  v.writeUInt16LE(version);
  const head = Buffer.concat([u8(rdbType), body, v]);
  return Buffer.concat([head, i64le(BigInt.asIntN(64, crc64(head)))]);
}

/** A listpack of string entries (6-bit string encodings only: entries shorter than 64 bytes). */
export function listpackOfStrings(items: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const it of items) {
    const b = Buffer.from(it, 'latin1');
    if (b.length >= 64) throw new Error('short strings only');
    const entry = Buffer.concat([u8(0x80 | b.length), b]);
    parts.push(entry, u8(entry.length));
  }
  const body = Buffer.concat(parts);
  const total = 6 + body.length + 1;
  const head = Buffer.alloc(6);
  head.writeUInt32LE(total, 0);
  head.writeUInt16LE(items.length, 4);
  return Buffer.concat([head, body, u8(0xff)]);
}
