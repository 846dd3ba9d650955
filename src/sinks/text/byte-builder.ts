/**
 * An append-only byte buffer for building one output chunk per batch: ASCII text, integers, base64 and
 * raw bytes are written in place (no string or Buffer per element); `take()` hands out the bytes written
 * so far and starts a fresh buffer, so a chunk handed to a stream is never overwritten.
 */
import { formatScore } from '../../rewrite/score.js';

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const EQ = 0x3d;
const QUOTE = 0x22;

export class ByteBuilder {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Appends a string of code points < 256 (ASCII headers, numbers). */
  ascii(s: string): this {
    const n = s.length;
    this.ensure(n);
    if (n < 64) {
      // short strings: a loop beats the native call's fixed cost
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
    } else {
      this.pos += this.buf.write(s, this.pos, n, 'latin1');
    }
    return this;
  }

  /**
   * Appends `"<bytes>"` when every byte is printable ASCII other than `"` and `\\` (the bytes are their
   * own JSON string body) and returns true; otherwise appends nothing and returns false. One pass.
   */
  jsonPlainString(b: Uint8Array): boolean {
    const n = b.length;
    this.ensure(n + 2);
    const buf = this.buf;
    buf[this.pos] = QUOTE;
    const p = this.plainAt(b, this.pos + 1);
    if (p < 0) return false;
    buf[p] = QUOTE;
    this.pos = p + 1;
    return true;
  }

  /** Copies `b` to position `p` when every byte is plain (see jsonPlainString): the position after it, else -1. */
  private plainAt(b: Uint8Array, p: number): number {
    const buf = this.buf;
    const n = b.length;
    for (let i = 0; i < n; i++) {
      const c = b[i] as number;
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
      buf[p++] = c;
    }
    return p;
  }

  /**
   * Appends `<sep>["<a>","<b>"` (sep: a byte, or 0 for none) when both byte strings are plain (see
   * jsonPlainString) and returns true; otherwise appends nothing and returns false. The caller closes
   * the pair (a TTL or a score may follow `b`).
   */
  jsonPlainPair(sep: number, a: Uint8Array, b: Uint8Array): boolean {
    const na = a.length;
    const nb = b.length;
    this.ensure(na + nb + 7);
    const buf = this.buf;
    let p = this.pos;
    if (sep !== 0) buf[p++] = sep;
    buf[p++] = 0x5b;
    buf[p++] = QUOTE;
    p = this.plainAt(a, p);
    if (p < 0) return false;
    buf[p++] = QUOTE;
    buf[p++] = 0x2c;
    buf[p++] = QUOTE;
    p = this.plainAt(b, p);
    if (p < 0) return false;
    buf[p++] = QUOTE;
    this.pos = p;
    return true;
  }

  /** Appends the standard base64 (with padding) of `b`, as Buffer's 'base64' encoding spells it. */
  base64(b: Uint8Array): this {
    const n = b.length;
    this.ensure(Math.ceil(n / 3) * 4);
    const buf = this.buf;
    let p = this.pos;
    const whole = n - (n % 3);
    let i = 0;
    for (; i < whole; i += 3) {
      const v = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8) | (b[i + 2] as number);
      buf[p] = B64[v >>> 18] as number;
      buf[p + 1] = B64[(v >>> 12) & 63] as number;
      buf[p + 2] = B64[(v >>> 6) & 63] as number;
      buf[p + 3] = B64[v & 63] as number;
      p += 4;
    }
    if (n - whole === 1) {
      const v = (b[i] as number) << 16;
      buf[p] = B64[v >>> 18] as number;
      buf[p + 1] = B64[(v >>> 12) & 63] as number;
      buf[p + 2] = EQ;
      buf[p + 3] = EQ;
      p += 4;
    } else if (n - whole === 2) {
      const v = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8);
      buf[p] = B64[v >>> 18] as number;
      buf[p + 1] = B64[(v >>> 12) & 63] as number;
      buf[p + 2] = B64[(v >>> 6) & 63] as number;
      buf[p + 3] = EQ;
      p += 4;
    }
    this.pos = p;
    return this;
  }

  /** Appends the decimal digits of an integer (a safe integer: as String(n) spells it). */
  int(n: number): this {
    if (!Number.isSafeInteger(n)) return this.ascii(String(n));
    this.ensure(17);
    const buf = this.buf;
    let p = this.pos;
    let v = n;
    if (v < 0) {
      buf[p++] = 0x2d;
      v = -v;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let q = p + digits - 1;
    do {
      const d = Math.floor(v / 10);
      buf[q--] = 0x30 + (v - d * 10);
      v = d;
    } while (v > 0);
    this.pos = p + digits;
    return this;
  }

  /** Appends a string as UTF-8. */
  utf8(s: string): this {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  byte(c: number): this {
    this.ensure(1);
    this.buf[this.pos++] = c;
    return this;
  }

  bytes(b: Uint8Array): this {
    const n = b.length;
    this.ensure(n);
    if (n < 16) {
      // a loop beats the native copy's fixed cost only for the shortest
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = b[i] as number;
    } else {
      this.buf.set(b, this.pos);
    }
    this.pos += n;
    return this;
  }

  /** Drops what was appended after `length` was `at`. */
  truncate(at: number): void {
    if (at >= 0 && at < this.pos) this.pos = at;
  }

  /** The bytes written since the last take(); the builder continues with a new buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.initialSize, Math.min(this.pos, 4 * 1024 * 1024)));
    this.pos = 0;
    return out;
  }
}

const cache = new Map<number, string>();
const CACHE_MAX = 4096;

/** Appends formatScore(score) to `out`: integers digit by digit, other values through a small cache. */
export function writeScore(out: ByteBuilder, score: number): void {
  if (score === 0) {
    out.ascii(Object.is(score, -0) ? '-0' : '0');
    return;
  }
  if (Number.isSafeInteger(score)) {
    out.int(score);
    return;
  }
  let s = cache.get(score);
  if (s === undefined) {
    s = formatScore(score);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(score, s);
  }
  out.ascii(s);
}
