/**
 * RDB file output: bytes go to a temporary file beside the destination and are renamed over it only
 * when complete (after fsync), so a reader never sees half a dump and a failed dump leaves no file behind.
 * Writes respect the disk's pace: `write()` returns false once `highWaterMark` bytes are queued, and the
 * caller waits for `drained()` (the replica pauses its socket, the entry sink awaits it). One writev at a
 * time carries everything queued so far.
 * The path `-` is standard output (a pipe or a file, never a terminal): no temporary file, no rename; a
 * failed dump leaves a stream that ends before the RDB's EOF and checksum, which every reader refuses.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface RdbFileOutputOptions {
  /** Bytes queued for the disk before write() asks the caller to wait (default 4 MiB). */
  highWaterMark?: number;
  /** fsync before the rename (default true). */
  fsync?: boolean;
}

export class RdbFileOutput {
  private written = 0;
  private failure: Error | null = null;
  private done = false;
  /** Chunks waiting for the next writev, and their byte count (plus the bytes of the writev in flight). */
  private queue: Buffer[] = [];
  private queued = 0;
  private writing: Promise<void> | null = null;
  private drainWaiters: (() => void)[] = [];
  /** Called after each write to the file with the bytes it holds now (a reader following it: sources/growing-file.ts). */
  onFlushed: ((bytesInFile: number) => void) | null = null;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly highWaterMark: number,
    private readonly fsync: boolean,
  ) {}

  /** Creates the temporary file (exclusive) in the destination's directory; `-` writes to standard output. */
  static async open(path: string, opts: RdbFileOutputOptions = {}): Promise<RdbFileOutput> {
    if (path === STDOUT) {
      if (process.stdout.isTTY)
        throw new Error('-o -: standard output is a terminal; pipe it or redirect it to a file');
      const handle = await open('/dev/stdout', 'w');
      return new RdbFileOutput(path, path, handle, opts.highWaterMark ?? 4 << 20, false);
    }
    const { randomBytes } = await import('node:crypto'); // not at start-up: decode imports this module
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx', 0o644);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? `directory ${dirname(path)} does not exist` : e.message;
      throw new Error(`cannot write ${path}: ${why}`);
    }
    return new RdbFileOutput(path, tempPath, handle, opts.highWaterMark ?? 4 << 20, opts.fsync ?? true);
  }

  get bytesWritten(): number {
    return this.written;
  }

  /** Bytes in the file now (written by the kernel; the queue and the write in flight not included). */
  get bytesInFile(): number {
    return this.written - this.queued;
  }

  /** Queues a chunk (kept by reference until written: do not reuse it). False: wait for drained(). */
  write(chunk: Buffer): boolean {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return this.queued < this.highWaterMark;
    this.written += chunk.length;
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.writing ??= this.flushLoop();
    return this.queued < this.highWaterMark;
  }

  /** One writev at a time, each taking everything queued so far. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue;
        this.queue = [];
        let n = 0;
        for (const b of batch) n += b.length;
        await writeAll(this.handle, batch, n);
        this.queued -= n;
        this.onFlushed?.(this.written - this.queued);
        if (this.queued < this.highWaterMark) this.wakeDrainWaiters();
      }
    } catch (err) {
      this.failure ??= new Error(`cannot write ${this.tempPath}: ${(err as Error).message}`);
      this.wakeDrainWaiters();
    } finally {
      this.writing = null;
    }
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once the queue is below the high-water mark again (at once if it already is). */
  async drained(): Promise<void> {
    if (this.queued >= this.highWaterMark && !this.failure) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  private async flushAll(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  /** Flushes, fsyncs, closes and renames the temporary file over the destination. */
  async commit(): Promise<void> {
    if (this.done) throw new Error('RdbFileOutput: already committed or aborted');
    this.done = true;
    try {
      await this.flushAll();
      if (this.fsync) await this.handle.sync();
      await this.handle.close();
      if (this.path !== STDOUT) await rename(this.tempPath, this.path);
    } catch (err) {
      await this.handle.close().catch(() => {});
      if (this.path !== STDOUT) await unlink(this.tempPath).catch(() => {});
      throw err;
    }
  }

  /** Drops everything: the temporary file is removed, the destination is left untouched. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.failure ??= new Error('aborted');
    this.queue = [];
    while (this.writing) await this.writing;
    await this.handle.close().catch(() => {});
    if (this.path !== STDOUT) await unlink(this.tempPath).catch(() => {});
  }
}

/** The output path that means standard output. */
export const STDOUT = '-';

/** writev until every byte is on disk (the kernel may take fewer bytes than asked). */
async function writeAll(handle: FileHandle, buffers: Buffer[], total: number): Promise<void> {
  let { bytesWritten } = await handle.writev(buffers);
  while (bytesWritten < total) {
    // Short write: drop what went out and retry the rest.
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of buffers) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    buffers = rest;
    total -= bytesWritten;
    ({ bytesWritten } = await handle.writev(buffers));
  }
}
