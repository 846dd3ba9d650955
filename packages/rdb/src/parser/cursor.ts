/**
 * The parser's one retained input buffer and its reading primitives.
 *
 * Bytes arrive in chunks (append) and are read in units. `mark` is the start of the unit being read:
 * when a read runs past the buffered bytes it throws the preallocated NEED_MORE sentinel, the parser
 * rewinds to `mark` and waits for the next chunk. Everything before `mark` is consumed: it is fed to
 * the running CRC64 (and to the value capture, when one is active) and dropped at the next append.
 * Views handed out in events point into buffers that are never written again: combining leftover
 * bytes with a new chunk always allocates (or appends into a tail that no view has ever covered).
 */
import { RdbError } from '../errors.js';
import { lzfDecompress } from '../encodings/index.js';
import type { RunningCrc64 } from '../encodings/crc64-wasm.js';

/** The sentinel thrown when a unit needs bytes that have not arrived yet. Never escapes the parser. */
export const NEED_MORE: unique symbol = Symbol('rdb-need-more');

const EMPTY = Buffer.alloc(0);
const TWO_32 = 4294967296;
/** Largest high word of a 64-bit length that still gives a safe JS integer. */
const MAX_SAFE_HI = 0x1fffff;

/** How the last string() call found its string stored. */
export const STRING_ENC = { RAW: 0, INT: 1, LZF: 2 } as const;

export class Cursor {
  buf: Buffer = EMPTY;
  /** Read position in buf. */
  pos = 0;
  /** End of the valid bytes in buf. */
  end = 0;
  /** Absolute input offset of buf[0]. */
  base = 0;
  /** Start of the unit being read (everything before it is consumed). */
  mark = 0;
  /** The key being read, for error messages. */
  key: Buffer | undefined;
  /** Encoding of the string returned by the last string() call (STRING_ENC). */
  lastStringEnc = 0;

  /** buf was allocated here, so its tail beyond `end` may be written. */
  private owned = false;
  /** Bytes (from mark) the failed unit needed at least: sizes the next combined buffer. */
  private needHint = 0;
  private crcFrom = 0;
  private capturing = false;
  private capParts: Buffer[] = [];
  private capFrom = 0;
  private capLen = 0;
  private capLimit = 0;
  private capOverflow = false;

  constructor(
    readonly maxElementSize: number,
    private readonly crc: RunningCrc64 | null,
  ) {}

  /** Absolute offset of a position in buf. */
  at(p: number): number {
    return this.base + p;
  }

  /** Absolute offset of the read position. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes received but not yet consumed. */
  get pending(): number {
    return this.end - this.mark;
  }

  /** Append a chunk. Call only between units (pos === mark). The chunk is kept, not copied, when possible. */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const rem = this.end - this.mark;
    if (rem === 0) {
      this.flushConsumed(this.end);
      this.base += this.end;
      this.buf = chunk;
      this.pos = this.mark = 0;
      this.end = chunk.length;
      this.owned = false;
      this.crcFrom = this.capFrom = 0;
      return;
    }
    if (this.owned && this.mark === 0 && this.buf.length - this.end >= chunk.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return;
    }
    this.flushConsumed(this.mark);
    const total = rem + chunk.length;
    if (!this.owned && this.end === this.buf.length && follows(this.buf, chunk)) {
      // The chunk is the next slice of the same memory (a source slicing one big read): widen the view.
      this.base += this.mark;
      this.buf = Buffer.from(chunk.buffer, this.buf.byteOffset + this.mark, total);
      this.pos -= this.mark;
      this.mark = 0;
      this.end = total;
      this.crcFrom = this.capFrom = 0;
      return;
    }
    // Grow geometrically toward what the waiting unit needs, never beyond twice the bytes received.
    const cap = this.needHint > total ? Math.min(this.needHint, total * 2) : total;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, this.mark, this.end);
    chunk.copy(nb, rem);
    this.base += this.mark;
    this.buf = nb;
    this.pos -= this.mark;
    this.mark = 0;
    this.end = total;
    this.owned = true;
    this.crcFrom = this.capFrom = 0;
  }

  /** Feed consumed bytes [.., upto) to the CRC and the capture before they may be dropped. */
  private flushConsumed(upto: number): void {
    if (this.crc && upto > this.crcFrom) {
      this.crc.update(this.buf, this.crcFrom, upto);
      this.crcFrom = upto;
    }
    if (this.capturing && upto > this.capFrom) {
      if (!this.capOverflow) {
        this.capLen += upto - this.capFrom;
        if (this.capLen > this.capLimit) {
          this.capOverflow = true;
          this.capParts = [];
        } else {
          this.capParts.push(this.buf.subarray(this.capFrom, upto));
        }
      }
      this.capFrom = upto;
    }
  }

  /** Update the CRC with everything read so far (used at the EOF opcode, before the stored checksum). */
  crcToPos(): void {
    if (this.crc && this.pos > this.crcFrom) {
      this.crc.update(this.buf, this.crcFrom, this.pos);
      this.crcFrom = this.pos;
    }
  }

  /** Start keeping the bytes from position `from` (in buf) on, up to `limit` bytes. */
  startCapture(from: number, limit: number): void {
    this.capturing = true;
    this.capParts = [];
    this.capFrom = from;
    this.capLen = 0;
    this.capLimit = limit;
    this.capOverflow = false;
  }

  get isCapturing(): boolean {
    return this.capturing;
  }

  /** Stop capturing; the bytes from the capture start to the read position, or null if over the limit. */
  endCapture(): Buffer | null {
    if (!this.capturing) return null;
    this.capturing = false;
    const parts = this.capParts;
    this.capParts = [];
    if (this.capOverflow) return null;
    const tail = this.buf.subarray(this.capFrom, this.pos);
    const total = this.capLen + tail.length;
    if (total > this.capLimit) return null;
    if (parts.length === 0) return tail;
    parts.push(tail);
    return Buffer.concat(parts, total);
  }

  /**
   * Stop capturing and hand the bytes to `sink` as a range of a buffer (no Buffer made when they lie in the
   * current one), with `tag` passed through; false when nothing was captured or the capture went over its limit.
   */
  endCaptureInto(sink: (buf: Buffer, start: number, end: number, tag: number) => void, tag: number): boolean {
    if (!this.capturing) return false;
    if (this.capParts.length > 0 || this.capOverflow) {
      const raw = this.endCapture();
      if (raw) sink(raw, 0, raw.length, tag);
      return raw !== null;
    }
    this.capturing = false;
    if (this.pos - this.capFrom > this.capLimit) return false;
    sink(this.buf, this.capFrom, this.pos, tag);
    return true;
  }

  /** Bytes captured so far (including the current unit's). */
  get capturedLength(): number {
    return this.capLen + (this.pos - this.capFrom);
  }

  error(message: string, offset: number = this.offset): RdbError {
    return new RdbError(message, offset, this.key);
  }

  need(n: number): void {
    if (this.end - this.pos < n) {
      this.needHint = this.pos - this.mark + n;
      throw NEED_MORE;
    }
  }

  u8(): number {
    if (this.pos >= this.end) {
      this.needHint = this.pos - this.mark + 1;
      throw NEED_MORE;
    }
    return this.buf[this.pos++]!;
  }

  /** A view of the next n bytes. */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.view(this.pos, n);
    this.pos += n;
    return v;
  }

  /**
   * A view of n bytes of buf from `start`: the same view as buf.subarray(start, start + n), made without the
   * species lookup and argument clamping (key names: 108 -> 72 ms of a 1M-key `decode --format keys` profile).
   * The element decoders (listpack, ziplist) keep subarray: there this form measured slower.
   */
  view(start: number, n: number): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, n);
  }

  /** Skips up to n bytes of what is buffered; returns how many were skipped. */
  skipAvailable(n: number): number {
    const k = Math.min(n, this.end - this.pos);
    this.pos += k;
    return k;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  i32le(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A signed 64-bit little-endian integer as a number (exact within +-2^53: times in ms). */
  i64le(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  u64le(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  f64le(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** An RDB length (rdbLoadLen) as a safe integer; 64-bit lengths beyond 2^53 are rejected. */
  len(): number {
    const start = this.pos;
    const b = this.u8();
    const t = b >> 6;
    if (t === 0) return b & 63;
    if (t === 1) return ((b & 63) << 8) | this.u8();
    if (b === 0x80) {
      this.need(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (b === 0x81) {
      this.need(8);
      const hi = this.buf.readUInt32BE(this.pos);
      const lo = this.buf.readUInt32BE(this.pos + 4);
      this.pos += 8;
      if (hi > MAX_SAFE_HI) {
        throw this.error(`length ${(BigInt(hi) << 32n) | BigInt(lo)} is too large`, this.at(start));
      }
      return hi * TWO_32 + lo;
    }
    throw this.error(`invalid length encoding byte 0x${hex(b)}`, this.at(start));
  }

  /** An RDB length as an unsigned 64-bit bigint (stream ids, module ids, entries_read). */
  lenBig(): bigint {
    const start = this.pos;
    const b = this.u8();
    if (b === 0x81) {
      this.need(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return v;
    }
    this.pos = start;
    return BigInt(this.len());
  }

  /** A length that is an element count; rejected when beyond what any server could hold. */
  count(what: string): number {
    const start = this.pos;
    const n = this.len();
    if (n > 0xffffffffff) throw this.error(`${what} ${n} is absurd`, this.at(start));
    return n;
  }

  /** An RDB string (rdbGenericLoadStringObject): raw (a view), integer-encoded or LZF-compressed. */
  string(): Buffer {
    const start = this.pos;
    const b = this.u8();
    if (b >= 0xc0) {
      switch (b & 63) {
        case 0: {
          this.need(1);
          const v = this.buf.readInt8(this.pos);
          this.pos += 1;
          this.lastStringEnc = STRING_ENC.INT;
          return Buffer.from(String(v), 'latin1');
        }
        case 1: {
          this.need(2);
          const v = this.buf.readInt16LE(this.pos);
          this.pos += 2;
          this.lastStringEnc = STRING_ENC.INT;
          return Buffer.from(String(v), 'latin1');
        }
        case 2: {
          this.need(4);
          const v = this.buf.readInt32LE(this.pos);
          this.pos += 4;
          this.lastStringEnc = STRING_ENC.INT;
          return Buffer.from(String(v), 'latin1');
        }
        case 3:
          return this.lzfString(start);
        default:
          throw this.error(`unknown string encoding 0x${hex(b)}`, this.at(start));
      }
    }
    let n: number;
    if (b < 0x40) {
      n = b;
    } else if (b < 0x80) {
      if (this.pos >= this.end) {
        this.needHint = this.pos - this.mark + 1;
        throw NEED_MORE;
      }
      n = ((b & 63) << 8) | this.buf[this.pos++]!;
    } else {
      this.pos = start;
      n = this.len();
    }
    if (n > this.maxElementSize) {
      throw this.error(`string of ${n} bytes exceeds maxElementSize ${this.maxElementSize}`, this.at(start));
    }
    this.need(n);
    const v = this.view(this.pos, n);
    this.pos += n;
    this.lastStringEnc = STRING_ENC.RAW;
    return v;
  }

  /**
   * An RDB string as a range, without a Buffer where it lies raw in buf: sets rangeBuf[rangeStart, rangeEnd)
   * to buf itself, or to a new Buffer for an integer-encoded or LZF-compressed string (as string() returns it).
   */
  stringRange(): void {
    const start = this.pos;
    const b = this.u8();
    let n: number;
    if (b < 0x40) {
      n = b;
    } else if (b < 0x80) {
      if (this.pos >= this.end) {
        this.needHint = this.pos - this.mark + 1;
        throw NEED_MORE;
      }
      n = ((b & 63) << 8) | this.buf[this.pos++]!;
    } else {
      this.pos = start;
      const s = this.string();
      this.rangeBuf = s;
      this.rangeStart = 0;
      this.rangeEnd = s.length;
      return;
    }
    if (n > this.maxElementSize) {
      throw this.error(`string of ${n} bytes exceeds maxElementSize ${this.maxElementSize}`, this.at(start));
    }
    this.need(n);
    this.rangeBuf = this.buf;
    this.rangeStart = this.pos;
    this.pos += n;
    this.rangeEnd = this.pos;
    this.lastStringEnc = STRING_ENC.RAW;
  }

  /** The last stringRange(). */
  rangeBuf: Buffer = EMPTY;
  rangeStart = 0;
  rangeEnd = 0;

  /**
   * Decode a blob just returned by string() (which started at position `stringStart`). Decoder errors
   * carry the key; inside LZF-decompressed data they point at the compressed string.
   */
  decodeBlob(decode: (b: Buffer, baseOffset: number) => Buffer[], blob: Buffer, stringStart: number): Buffer[] {
    const lzf = this.lastStringEnc === STRING_ENC.LZF;
    try {
      return decode(blob, lzf ? 0 : this.at(this.pos - blob.length));
    } catch (e) {
      if (!(e instanceof RdbError)) throw e;
      if (lzf) {
        throw new RdbError(
          `${e.message} (at byte ${e.offset} of the data decompressed from an LZF string)`,
          this.at(stringStart),
          this.key,
        );
      }
      throw e.key || !this.key ? e : new RdbError(e.message, e.offset, this.key);
    }
  }

  private lzfString(start: number): Buffer {
    const clen = this.len();
    const ulen = this.len();
    if (ulen > this.maxElementSize || clen > this.maxElementSize) {
      throw this.error(
        `LZF string of ${ulen} bytes (${clen} compressed) exceeds maxElementSize ${this.maxElementSize}`,
        this.at(start),
      );
    }
    if (ulen === 0) throw this.error('LZF string with an uncompressed length of 0', this.at(start));
    this.need(clen);
    const out = lzfDecompress(this.buf, ulen, this.at(this.pos), this.pos, this.pos + clen);
    this.pos += clen;
    this.lastStringEnc = STRING_ENC.LZF;
    return out;
  }
}

export function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/** True when `next` starts right where `prev` ends, in the same ArrayBuffer. */
function follows(prev: Buffer, next: Buffer): boolean {
  return next.buffer === prev.buffer && next.byteOffset === prev.byteOffset + prev.length;
}
