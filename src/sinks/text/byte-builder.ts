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
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, s.length, 'latin1');
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
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
