/**
 * An append-only byte buffer for building one output chunk per batch: ASCII text and raw bytes are
 * copied in place (no allocation per element); `take()` hands out the bytes written so far and starts
 * a fresh buffer, so a chunk handed to a stream is never overwritten.
 */
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
    let p = this.pos;
    buf[p++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = b[i] as number;
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
      buf[p++] = c;
    }
    buf[p++] = 0x22;
    this.pos = p;
    return true;
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
    if (n < 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = b[i] as number;
    } else {
      this.buf.set(b, this.pos);
    }
    this.pos += n;
    return this;
  }

  /** The bytes written since the last take(); the builder continues with a new buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.initialSize, Math.min(this.pos, 4 * 1024 * 1024)));
    this.pos = 0;
    return out;
  }
}
