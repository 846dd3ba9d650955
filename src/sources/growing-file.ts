/**
 * A file that another part of this process is still writing (`shake sync`'s snapshot, received from the master
 * into a file in the state directory), read from its start while it grows: a reader yields the bytes already in
 * the file, then waits for the writer to say there are more (`grew`), ends once the writer says the file is
 * complete (`end`), and fails with the writer's error (`fail`: the transfer broke, the checksum did not match).
 *
 * The file is the buffer between a writer that must never wait (the replication link) and a reader that may be
 * slow (the target): memory stays at one read chunk per reader, whatever the distance between the two. The
 * descriptor is opened once, so the writer may rename the file (RdbFileOutput.commit) while readers go on, and
 * several readers may read it from the start (the restore pipeline reads an RDB again for keys too big to
 * capture).
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Read size: as the restore pipeline reads a finished file (pipelines/restore.ts). */
const READ_CHUNK = 64 * 1024;

export class GrowingFile {
  private size = 0;
  private complete = false;
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(
    /** For messages. */
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens `path` (already created by the writer, possibly still empty) for reading. */
  static async open(path: string): Promise<GrowingFile> {
    return new GrowingFile(path, await open(path, 'r'));
  }

  /** Bytes the writer has put in the file so far. */
  get bytes(): number {
    return this.size;
  }

  get ended(): boolean {
    return this.complete;
  }

  /** The writer's error (fail), else null. */
  get error(): Error | null {
    return this.failure;
  }

  /** Writer: the first `size` bytes are in the file. */
  grew(size: number): void {
    if (size <= this.size) return;
    this.size = size;
    this.wake();
  }

  /** Writer: the file is complete at `size` bytes (the default: what `grew` last said). */
  end(size = this.size): void {
    this.size = Math.max(this.size, size);
    this.complete = true;
    this.wake();
  }

  /** Writer: no more bytes will come; readers throw `err` (at once, even with bytes left to read). */
  fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  /** Resolves once `n` bytes are in the file or it ended shorter (then with the length it has); throws its failure. */
  async waitFor(n: number): Promise<number> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.size >= n || this.complete) return this.size;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The first `n` bytes (or fewer when the file ended shorter), once they are in the file. */
  async head(n: number): Promise<Buffer> {
    const have = Math.min(n, await this.waitFor(n));
    const buf = Buffer.alloc(have);
    const { bytesRead } = await this.handle.read(buf, 0, have, 0);
    return buf.subarray(0, bytesRead);
  }

  /** The file from its start, as it grows, until the writer ends it. Each chunk is a new Buffer (kept by the parser). */
  async *chunks(readChunk = READ_CHUNK): AsyncGenerator<Buffer> {
    let pos = 0;
    for (;;) {
      if (this.closed) throw new Error(`${this.path}: read after close`);
      const available = await this.waitFor(pos + 1);
      if (available <= pos) return; // ended, all of it read
      const len = Math.min(readChunk, available - pos);
      const buf = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const { bytesRead } = await this.handle.read(buf, got, len - got, pos + got);
        if (bytesRead === 0) throw new Error(`${this.path}: ${pos + got} bytes readable, the file holds fewer`);
        got += bytesRead;
      }
      pos += len;
      yield buf;
    }
  }

  /** Closes the descriptor (readers still running then fail). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error(`${this.path}: closed`));
    await this.handle.close().catch(() => {});
  }
}
