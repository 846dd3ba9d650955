/**
 * CRC-64 as Redis computes it for RDB files and DUMP payloads (crc64.c): the Jones polynomial
 * 0xad93d23594c935a9, reflected input and output, initial value 0, no final xor.
 * crc64(0, "123456789") === 0xe9c6d914c4b8d9ca.
 *
 * The 64-bit state is kept as two uint32 halves and advanced 8 bytes at a time with slicing-by-8 tables,
 * so no BigInt is touched inside the loop.
 */

/** The polynomial bit-reversed (for the reflected, LSB-first algorithm): 0x95ac9329ac4bc9b5. */
const POLY_REV_HI = 0x95ac9329;
const POLY_REV_LO = 0xac4bc9b5;

/** TL[k * 256 + n], TH[k * 256 + n]: low / high halves of slicing table k for byte n. */
/** Slicing-by-8 tables, low and high u32 halves: entry n of table k at k * 256 + n (shared with crc64-wasm.ts). */
export const TL = new Uint32Array(8 * 256);
export const TH = new Uint32Array(8 * 256);

for (let n = 0; n < 256; n++) {
  let lo = n;
  let hi = 0;
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      lo = (lo ^ POLY_REV_LO) >>> 0;
      hi = (hi ^ POLY_REV_HI) >>> 0;
    }
  }
  TL[n] = lo;
  TH[n] = hi;
}
for (let k = 1; k < 8; k++) {
  for (let n = 0; n < 256; n++) {
    const plo = TL[(k - 1) * 256 + n]!;
    const phi = TH[(k - 1) * 256 + n]!;
    const idx = plo & 0xff;
    TL[k * 256 + n] = (((plo >>> 8) | (phi << 24)) ^ TL[idx]!) >>> 0;
    TH[k * 256 + n] = ((phi >>> 8) ^ TH[idx]!) >>> 0;
  }
}

/** Incremental CRC-64 (for streaming a whole RDB file through it). */
export class Crc64 {
  private lo: number;
  private hi: number;

  constructor(initial: bigint = 0n) {
    this.lo = Number(initial & 0xffffffffn);
    this.hi = Number((initial >> 32n) & 0xffffffffn);
  }

  /** Feeds `buf[start, end)` into the checksum. */
  update(buf: Uint8Array, start = 0, end: number = buf.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const stop8 = end - 8;
    while (i <= stop8) {
      lo ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
      hi ^= buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
      const a0 = 1792 + (lo & 0xff);
      const a1 = 1536 + ((lo >>> 8) & 0xff);
      const a2 = 1280 + ((lo >>> 16) & 0xff);
      const a3 = 1024 + (lo >>> 24);
      const b0 = 768 + (hi & 0xff);
      const b1 = 512 + ((hi >>> 8) & 0xff);
      const b2 = 256 + ((hi >>> 16) & 0xff);
      const b3 = hi >>> 24;
      lo = TL[a0]! ^ TL[a1]! ^ TL[a2]! ^ TL[a3]! ^ TL[b0]! ^ TL[b1]! ^ TL[b2]! ^ TL[b3]!;
      hi = TH[a0]! ^ TH[a1]! ^ TH[a2]! ^ TH[a3]! ^ TH[b0]! ^ TH[b1]! ^ TH[b2]! ^ TH[b3]!;
      i += 8;
    }
    while (i < end) {
      const idx = (lo ^ buf[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TL[idx]!;
      hi = (hi >>> 8) ^ TH[idx]!;
      i++;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** The checksum so far (the object stays usable: more `update` calls continue from here). */
  digest(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The checksum as 8 little-endian bytes, the way RDB files and DUMP payloads store it. */
  digestLE(): Buffer {
    const out = Buffer.allocUnsafe(8);
    this.writeLE(out, 0);
    return out;
  }

  /** Writes the checksum as 8 little-endian bytes at `offset` (no allocation); returns the end. */
  writeLE(target: Buffer, offset: number): number {
    target.writeUInt32LE(this.lo, offset);
    target.writeUInt32LE(this.hi, offset + 4);
    return offset + 8;
  }

  /** Starts again from 0 (one object reused for many small checksums). */
  reset(): this {
    this.lo = 0;
    this.hi = 0;
    return this;
  }
}

/** CRC-64 of `buf`, continuing from `crc` (default 0), as Redis's crc64(crc, s, l). */
export function crc64(buf: Uint8Array, crc: bigint = 0n): bigint {
  return new Crc64(crc).update(buf).digest();
}
