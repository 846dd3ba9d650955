/** decode --format keys: each key's raw bytes followed by a newline, written in chunks of at least 128 KiB. */
import type { EntryBatch, Sink } from '../../core/entry.js';
import { ByteBuilder } from './byte-builder.js';
import type { TextOutput } from './output.js';

const FLUSH_AT = 128 * 1024;

export class KeysSink implements Sink {
  private readonly buf = new ByteBuilder();

  constructor(private readonly out: TextOutput) {}

  write(batch: EntryBatch): Promise<void> | undefined {
    for (const e of batch) {
      if (e.kind === 'key-start') this.buf.bytes(e.header.key).byte(0x0a);
    }
    return this.buf.length >= FLUSH_AT ? this.out.write(this.buf.take()) : undefined;
  }

  async close(): Promise<void> {
    if (this.buf.length > 0) await this.out.write(this.buf.take());
    await this.out.end();
  }

  async abort(): Promise<void> {
    if (this.buf.length > 0) this.out.write(this.buf.take());
    await this.out.end().catch(() => {});
  }
}
