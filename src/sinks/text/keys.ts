/** decode --format keys: each key's raw bytes followed by a newline, one write per batch. */
import type { EntryBatch, Sink } from '../../core/entry.js';
import { ByteBuilder } from './byte-builder.js';
import type { TextOutput } from './output.js';

export class KeysSink implements Sink {
  private readonly buf = new ByteBuilder();

  constructor(private readonly out: TextOutput) {}

  write(batch: EntryBatch): Promise<void> | undefined {
    for (const e of batch) {
      if (e.kind === 'key-start') this.buf.bytes(e.header.key).ascii('\n');
    }
    return this.buf.length > 0 ? this.out.write(this.buf.take()) : undefined;
  }

  async close(): Promise<void> {
    await this.out.end();
  }

  async abort(): Promise<void> {
    await this.out.end().catch(() => {});
  }
}
