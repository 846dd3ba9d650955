/**
 * Where text sinks write: stdout or a file. Respects backpressure (a write that fills the stream's
 * buffer returns a promise resolved on 'drain'), and turns a reader that went away (EPIPE, e.g.
 * `shake decode x.rdb | head`) into OutputClosedError, which the command treats as a quiet end.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export class OutputClosedError extends Error {
  override readonly name = 'OutputClosedError';
  constructor() {
    super('output closed by the reader');
  }
}

export class TextOutput {
  private closed = false;
  private failure: Error | null = null;
  private waiting: Promise<void> | null = null;

  constructor(
    private readonly stream: Writable,
    /** End the stream on end() (files); stdout is only flushed. */
    private readonly owned: boolean,
  ) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true;
      else this.failure = err;
    });
  }

  static stdout(): TextOutput {
    return new TextOutput(process.stdout, false);
  }

  static file(path: string): TextOutput {
    return new TextOutput(createWriteStream(path), true);
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new OutputClosedError();
  }

  /** Writes one chunk; returns a promise only when the caller must wait for the stream to drain. */
  write(chunk: Buffer | string): Promise<void> | undefined {
    this.check();
    if (chunk.length === 0) return undefined;
    if (this.stream.write(chunk)) return undefined;
    this.waiting ??= this.drain();
    return this.waiting;
  }

  private async drain(): Promise<void> {
    const ac = new AbortController();
    try {
      await Promise.race([
        once(this.stream, 'drain', { signal: ac.signal }),
        once(this.stream, 'close', { signal: ac.signal }),
      ]);
    } catch {
      // an 'error' event: recorded by the listener above, reported by check()
    } finally {
      ac.abort();
      this.waiting = null;
    }
    this.check();
  }

  /** Flushes and (for files) closes. */
  async end(): Promise<void> {
    if (this.closed) return;
    if (this.failure) throw this.failure;
    if (this.owned) {
      const done = once(this.stream, 'close');
      this.stream.end();
      await done;
    } else if (this.stream.writableNeedDrain) {
      await this.drain();
    }
    this.check();
  }
}
