/**
 * RDB serialization primitives, as rdb.c writes them: lengths (rdbSaveLen), strings (rdbSaveRawString:
 * int-encoded, LZF, or verbatim), doubles (rdbSaveBinaryDoubleValue and the legacy rdbSaveDoubleValue),
 * millisecond times and raw stream ids.
 *
 * ChunkWriter gathers small writes into a staging buffer and hands out chunks through a callback; big
 * buffers (element values) pass through uncopied. A chunk handed out is never written to again.
 */
import { RDB_ENC, RDB_LEN } from '../constants.js';
import { lzfCompress, parseCanonicalSafeInt } from '../encodings/index.js';
import type { StreamId } from '../types.js';

const UINT32_MAX = 0xffffffff;
const UINT64_MAX = 0xffffffffffffffffn;
/** rdbSaveRawString: strings up to 11 bytes are tried as integers. */
const INT_ENCODING_MAX_LEN = 11;
/** rdbSaveRawString: LZF is tried only for strings longer than 20 bytes. */
const LZF_MIN_LEN = 21;
/** Writes at least this big are emitted as their own chunk instead of being copied into staging. */
const PASS_THROUGH_MIN = 4096;

export interface StringEncodingOptions {
  /** rdbcompression: LZF-compress strings longer than 20 bytes when that saves at least 4 bytes (default true). */
  compress?: boolean;
}

/** Collects RDB bytes and emits them as chunks (default staging size 64 KiB). */
export class ChunkWriter {
  private staging: Buffer;
  private pos = 0;
  private readonly scratch = Buffer.allocUnsafe(16);
  /** Bytes handed to `emit` so far. */
  emitted = 0;

  private readonly stagingSize: number;

  constructor(
    private readonly emit: (chunk: Buffer) => void,
    stagingSize = 64 * 1024,
    private readonly compress = true,
  ) {
    // At least 64 bytes, so the scratch-built records (<= 16 bytes) are always copied, never passed through.
    this.stagingSize = Math.max(64, stagingSize);
    this.staging = Buffer.allocUnsafe(this.stagingSize);
  }

  /** Bytes written so far, emitted or still staged. */
  get written(): number {
    return this.emitted + this.pos;
  }

  byte(b: number): void {
    if (this.pos >= this.staging.length) this.flush();
    this.staging[this.pos++] = b;
  }

  bytes(buf: Uint8Array): void {
    const len = buf.length;
    if (len === 0) return;
    if (len >= PASS_THROUGH_MIN || len > this.stagingSize) {
      this.flush();
      this.out(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, len));
      return;
    }
    if (this.pos + len > this.staging.length) this.flush();
    this.staging.set(buf, this.pos);
    this.pos += len;
  }

  /** rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian length. */
  length(n: number | bigint): void {
    if (typeof n === 'number') {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`RDB length out of range: ${n}`);
      if (n < 64) return this.byte(n);
      if (n < 16384) {
        this.byte((RDB_LEN.BITS14 << 6) | (n >>> 8));
        return this.byte(n & 0xff);
      }
      if (n <= UINT32_MAX) {
        this.byte(RDB_LEN.BITS32);
        this.scratch.writeUInt32BE(n, 0);
        return this.bytes(this.scratch.subarray(0, 4));
      }
      n = BigInt(n);
    }
    if (n < 0n || n > UINT64_MAX) throw new RangeError(`RDB length out of range: ${n}`);
    if (n <= BigInt(UINT32_MAX)) return this.length(Number(n));
    this.byte(RDB_LEN.BITS64);
    this.scratch.writeBigUInt64BE(n, 0);
    this.bytes(this.scratch.subarray(0, 8));
  }

  /** rdbSaveRawString: int8/16/32 when `s` is a canonical integer in range, else LZF (if it helps), else raw. */
  string(s: Buffer): void {
    const len = s.length;
    if (len <= INT_ENCODING_MAX_LEN && len > 0) {
      const v = parseCanonicalSafeInt(s);
      if (v !== null && this.intEncoded(v)) return;
    }
    if (this.compress && len >= LZF_MIN_LEN) {
      const packed = lzfCompress(s);
      if (packed !== null) {
        this.byte((RDB_LEN.ENCVAL << 6) | RDB_ENC.LZF);
        this.length(packed.length);
        this.length(len);
        this.bytes(packed);
        return;
      }
    }
    this.length(len);
    this.bytes(s);
  }

  /** rdbSaveRawString of a string that must not be int-encoded or compressed (never needed by Redis; for tests). */
  rawString(s: Buffer): void {
    this.length(s.length);
    this.bytes(s);
  }

  /** rdbSaveBinaryDoubleValue: IEEE 754 binary64, little endian (ZSET_2 scores). */
  binaryDouble(v: number): void {
    this.scratch.writeDoubleLE(v, 0);
    this.bytes(this.scratch.subarray(0, 8));
  }

  /** rdbSaveDoubleValue: the legacy one-byte-length string form of type 3 (ZSET) scores. */
  stringDouble(v: number): void {
    if (Number.isNaN(v)) return this.byte(253);
    if (v === Infinity) return this.byte(254);
    if (v === -Infinity) return this.byte(255);
    const text = Buffer.from(formatDouble(v), 'latin1');
    this.byte(text.length);
    this.bytes(text);
  }

  /** rdbSaveMillisecondTime: int64 little endian. */
  millisecondTime(ms: number | bigint): void {
    this.scratch.writeBigInt64LE(BigInt.asIntN(64, BigInt(ms)), 0);
    this.bytes(this.scratch.subarray(0, 8));
  }

  /** A stream id as 128-bit big-endian (ms, seq): the rax key form used for node keys and PEL ids. */
  streamIdRaw(id: StreamId): void {
    this.scratch.writeBigUInt64BE(BigInt.asUintN(64, id.ms), 0);
    this.scratch.writeBigUInt64BE(BigInt.asUintN(64, id.seq), 8);
    this.bytes(this.scratch.subarray(0, 16));
  }

  /** Emits whatever is staged. */
  flush(): void {
    if (this.pos === 0) return;
    const chunk = this.staging.subarray(0, this.pos);
    this.staging = Buffer.allocUnsafe(this.stagingSize);
    this.pos = 0;
    this.out(chunk);
  }

  private out(chunk: Buffer): void {
    this.emitted += chunk.length;
    this.emit(chunk);
  }

  /** rdbEncodeInteger: returns false when `v` does not fit int32. */
  private intEncoded(v: number): boolean {
    if (v >= -128 && v <= 127) {
      this.byte((RDB_LEN.ENCVAL << 6) | RDB_ENC.INT8);
      this.byte(v & 0xff);
      return true;
    }
    if (v >= -32768 && v <= 32767) {
      this.byte((RDB_LEN.ENCVAL << 6) | RDB_ENC.INT16);
      this.byte(v & 0xff);
      this.byte((v >> 8) & 0xff);
      return true;
    }
    if (v >= -2147483648 && v <= 2147483647) {
      this.byte((RDB_LEN.ENCVAL << 6) | RDB_ENC.INT32);
      this.scratch.writeInt32LE(v, 0);
      this.bytes(this.scratch.subarray(0, 4));
      return true;
    }
    return false;
  }
}

/**
 * A double as text that C's strtod reads back to the same value: the shortest round-trip form
 * (what Redis 7.2+ prints; older servers used %.17g, which reads back the same). "-0" keeps its sign.
 */
export function formatDouble(v: number): string {
  if (Object.is(v, -0)) return '-0';
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return v.toFixed(0);
  // JS prints "1e+300": strtod accepts the "+".
  return String(v);
}

/** Runs `fn` against a ChunkWriter and returns everything it wrote as one Buffer (small values, tests). */
export function serializeToBuffer(fn: (w: ChunkWriter) => void, opts: StringEncodingOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const w = new ChunkWriter((c) => parts.push(c), 4096, opts.compress ?? true);
  fn(w);
  w.flush();
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** rdbSaveLen of `n` as a Buffer. */
export function encodeLength(n: number | bigint): Buffer {
  return serializeToBuffer((w) => w.length(n));
}

/** rdbSaveRawString of `s` as a Buffer. */
export function encodeString(s: Buffer, opts: StringEncodingOptions = {}): Buffer {
  return serializeToBuffer((w) => w.string(s), opts);
}
