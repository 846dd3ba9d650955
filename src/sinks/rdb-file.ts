/**
 * RDB file output: bytes go to a temporary file beside the destination and are renamed over it only
 * when complete (after fsync), so a reader never sees half a dump and a failed dump leaves no file behind.
 * Writes respect the file's backpressure: `write()` returns false once `highWaterMark` bytes are queued,
 * and the caller waits for `drained()` (the replica pauses its socket, the entry sink awaits it).
 *
 * `RdbFileSink` is the Entry sink of `shake dump --mode scan`: it turns header / aux / function / select-db /
 * resize-db records and keys carrying a raw DUMP body (`key-end.raw`) into an RDB file with RdbWriter.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RdbWriter, type KeyHeader, type RdbEvent, type RdbWriterAux } from '@shake/rdb';
import type { Entry, EntryBatch, Sink } from '../core/entry.js';

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

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly highWaterMark: number,
    private readonly fsync: boolean,
  ) {}

  /** Creates the temporary file (exclusive) in the destination's directory. */
  static async open(path: string, opts: RdbFileOutputOptions = {}): Promise<RdbFileOutput> {
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx', 0o644);
    } catch (err) {
      throw new Error(`cannot create ${tempPath}: ${(err as Error).message}`);
    }
    return new RdbFileOutput(path, tempPath, handle, opts.highWaterMark ?? 4 << 20, opts.fsync ?? true);
  }

  get bytesWritten(): number {
    return this.written;
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
      await rename(this.tempPath, this.path);
    } catch (err) {
      await this.handle.close().catch(() => {});
      await unlink(this.tempPath).catch(() => {});
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
    await unlink(this.tempPath).catch(() => {});
  }
}

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

export interface RdbFileSinkOptions extends RdbFileOutputOptions {
  /** RDB version to write when the source gives no header (default: the header's version). */
  rdbVersion?: number;
  compress?: boolean;
  /** When aborted before close(), close() drops the file instead of committing a partial dump. */
  signal?: AbortSignal;
}

/** What the sink wrote, once closed. */
export interface RdbFileSinkResult {
  path: string;
  bytes: number;
  keys: number;
  rdbVersion: number;
  /** Records the writer could not put in the file, by reason (e.g. a type the version cannot hold). */
  skipped: Record<string, number>;
}

const WRITER_AUX: Record<string, keyof RdbWriterAux> = {
  'redis-ver': 'redisVer',
  'valkey-ver': 'valkeyVer',
};

/**
 * Entry sink -> RDB file. Keys whose key-end carries `raw` (a DUMP body, as the scan source yields) are
 * copied as they are; other keys (parser events) are re-encoded by RdbWriter. The header's version is the
 * file's version; the source's AUX fields describing the server (redis-ver, redis-bits, ctime, used-mem)
 * are kept. Commands (CommandEntry) cannot go into an RDB file and are refused.
 */
export class RdbFileSink implements Sink {
  private writer: RdbWriter | null = null;
  private readonly preamble: RdbEvent[] = [];
  /** key-start waiting to learn whether the key comes raw (key-end.raw) or as value events. */
  private pendingKey: KeyHeader | null = null;
  private pendingLength: number | undefined;
  private ended = false;
  private version: number | null;
  result: RdbFileSinkResult | null = null;

  private constructor(
    private readonly out: RdbFileOutput,
    private readonly opts: RdbFileSinkOptions,
  ) {
    this.version = opts.rdbVersion ?? null;
  }

  static async open(path: string, opts: RdbFileSinkOptions = {}): Promise<RdbFileSink> {
    return new RdbFileSink(await RdbFileOutput.open(path, opts), opts);
  }

  get bytesWritten(): number {
    return this.out.bytesWritten;
  }

  async write(batch: EntryBatch): Promise<void> {
    for (const e of batch) this.entry(e);
    await this.out.drained();
  }

  private entry(e: Entry): void {
    if (e.kind === 'command') throw new Error('an RDB file cannot hold commands (command entry in a dump)');
    if (!this.writer) {
      if (e.kind === 'header') {
        this.version ??= e.version;
        return;
      }
      if (e.kind === 'aux') {
        this.preamble.push(e);
        return;
      }
      this.startWriter();
    }
    const w = this.writer!;
    switch (e.kind) {
      case 'header':
        return;
      case 'key-start':
        this.flushPendingKey();
        this.pendingKey = e.header;
        this.pendingLength = e.length;
        return;
      case 'key-end':
        if (this.pendingKey && e.raw) {
          const h = this.pendingKey;
          this.pendingKey = null;
          w.rawKey({
            db: h.db,
            key: h.key,
            rdbType: h.rdbType,
            body: e.raw,
            expireAtMs: h.expireAtMs,
            idle: h.idle,
            freq: h.freq,
            sourceRdbVersion: this.version ?? undefined,
          });
          return;
        }
        this.flushPendingKey();
        w.write(e);
        return;
      case 'end':
        this.flushPendingKey();
        w.end();
        this.ended = true;
        return;
      default:
        this.flushPendingKey();
        w.write(e);
    }
  }

  /** A key-start followed by value events: hand it to the writer as a parsed key. */
  private flushPendingKey(): void {
    const h = this.pendingKey;
    if (!h) return;
    this.pendingKey = null;
    this.writer!.beginKey(h, this.pendingLength);
  }

  private startWriter(): void {
    if (this.version === null) throw new Error('RDB file sink: no header before the first record');
    const aux: RdbWriterAux = { extra: [] };
    for (const ev of this.preamble) {
      if (ev.kind !== 'aux') continue;
      const name = ev.key.toString('latin1');
      const value = ev.value.toString('latin1');
      const field = WRITER_AUX[name];
      if (field === 'redisVer') aux.redisVer = value;
      else if (field === 'valkeyVer') aux.valkeyVer = value;
      else if (name === 'redis-bits') aux.redisBits = Number(value);
      else if (name === 'ctime') aux.ctime = Number(value);
      else if (name === 'used-mem') aux.usedMem = Number(value);
      else if (name === 'aof-base' || name === 'aof-preamble' || name.startsWith('repl-')) continue;
      else aux.extra!.push([ev.key, ev.value]);
    }
    this.writer = new RdbWriter({
      rdbVersion: this.version,
      compress: this.opts.compress,
      aux,
      output: (chunk) => {
        this.out.write(chunk);
      },
    });
    this.writer.start();
  }

  async close(): Promise<void> {
    if (this.opts.signal?.aborted) {
      await this.out.abort();
      return;
    }
    if (!this.writer) this.startWriter();
    if (!this.ended) {
      this.flushPendingKey();
      this.writer!.end();
      this.ended = true;
    }
    await this.out.commit();
    const w = this.writer!;
    this.result = {
      path: this.out.path,
      bytes: this.out.bytesWritten,
      keys: w.stats.keys,
      rdbVersion: this.version!,
      skipped: { ...w.stats.skipped },
    };
  }

  async abort(): Promise<void> {
    await this.out.abort();
  }
}
