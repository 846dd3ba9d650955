/**
 * The command spool of `shake sync`: every command of the master's replication stream is appended to files on
 * disk as it arrives, and the apply loop reads them back in order, so the replica link never waits for the
 * target and the master's output buffer for shake stays empty, however far behind the target is. Memory holds
 * only the bytes not yet handed to the OS (written at the next tick, or at once past 1 MiB) and the batch
 * being applied; the disk holds at most `maxBytes` not yet read (a clear error past that).
 *
 * The spool is not the durable state: the checkpoint in the target is. After a crash the spool is discarded
 * and the master's backlog (PSYNC) resends whatever the checkpoint does not cover.
 *
 * Frame: u32 frame length (after this field), f64 replication offset just past the command, u32 argc, then per
 * argument u32 length + bytes. Segments `spool-<n>.bin` of `segmentBytes`; a segment fully read is deleted.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SpooledCommand {
  argv: Buffer[];
  /** Replication offset just past this command. */
  offset: number;
}

export interface SpoolOptions {
  /** Bytes written and not yet read before append() fails ([sync] spool_max_bytes). */
  maxBytes: number;
  /** Size at which a new segment file starts (default 64 MiB). */
  segmentBytes?: number;
}

export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

const FLUSH_AT = 1 << 20;
const READ_CHUNK = 1 << 20;

interface Segment {
  n: number;
  path: string;
  fd: number;
  /** Bytes written to the OS. */
  size: number;
}

export class Spool {
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly segments: Segment[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private readPos = 0;
  private written = 0;
  private read = 0;
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  private closed = false;
  /** Largest backlog seen (bytes written and not yet read). */
  peakBytes = 0;

  constructor(
    readonly dir: string,
    opts: SpoolOptions,
  ) {
    this.maxBytes = opts.maxBytes;
    this.segmentBytes = opts.segmentBytes ?? 64 << 20;
    mkdirSync(dir, { recursive: true });
    // What an earlier run left is not needed: the checkpoint says where to resume and the master resends.
    for (const f of readdirSync(dir)) if (/^spool-\d+\.bin$/.test(f)) rmSync(join(dir, f), { force: true });
    this.openSegment(0);
  }

  /** Bytes appended and not yet read back (on disk or about to be). */
  get backlogBytes(): number {
    return this.written + this.pendingBytes - this.read;
  }

  private openSegment(n: number): void {
    const path = join(this.dir, `spool-${n}.bin`);
    this.segments.push({ n, path, fd: openSync(path, 'w+'), size: 0 });
  }

  /** Appends one command. Throws SpoolFullError when the backlog would pass maxBytes. */
  append(argv: readonly Buffer[], offset: number): void {
    if (this.failure) throw this.failure;
    let len = 12;
    for (const a of argv) len += 4 + a.length;
    const frame = Buffer.allocUnsafe(4 + len);
    frame.writeUInt32LE(len, 0);
    frame.writeDoubleLE(offset, 4);
    frame.writeUInt32LE(argv.length, 12);
    let p = 16;
    for (const a of argv) {
      frame.writeUInt32LE(a.length, p);
      a.copy(frame, p + 4);
      p += 4 + a.length;
    }
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    const backlog = this.backlogBytes;
    if (backlog > this.peakBytes) this.peakBytes = backlog;
    if (backlog > this.maxBytes) {
      this.failure = new SpoolFullError(
        `the spool in ${this.dir} holds ${backlog} bytes of commands the target has not applied yet ` +
          `(limit ${this.maxBytes}, [sync] spool_max_bytes): the target is too slow for the source's write rate`,
      );
      this.wake();
      throw this.failure;
    }
    if (this.pendingBytes >= FLUSH_AT) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands the pending frames to the OS (page cache) and wakes the reader. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    let seg = this.segments[this.segments.length - 1] as Segment;
    const buf = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    let off = 0;
    while (off < buf.length) off += writeSync(seg.fd, buf, off, buf.length - off, seg.size + off);
    seg.size += buf.length;
    this.written += buf.length;
    if (seg.size >= this.segmentBytes) {
      this.openSegment(seg.n + 1);
      seg = this.segments[this.segments.length - 1] as Segment;
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Fails the reader (the link broke): next() rejects once everything written was read. */
  fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  /** Stops the reader's wait: next() returns [] once nothing is left. */
  end(): void {
    this.flush();
    this.closed = true;
    this.wake();
  }

  /** True when nothing appended is left to read. */
  get drained(): boolean {
    return this.backlogBytes === 0;
  }

  /**
   * The next commands in order, up to about `maxBytes`: waits until there is at least one; [] when the spool
   * was ended and is empty. `until` (ms since epoch) bounds the wait: [] when it passes.
   */
  async next(maxBytes: number, waitMs?: number): Promise<SpooledCommand[]> {
    for (;;) {
      if (this.read < this.written) return this.readFrames(maxBytes);
      if (this.pendingBytes > 0) {
        this.flush();
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.closed) return [];
      const woke = new Promise<boolean>((resolve) => {
        this.waiter = () => resolve(true);
        if (waitMs !== undefined) setTimeout(() => resolve(false), waitMs);
      });
      if (!(await woke)) {
        this.waiter = null;
        return [];
      }
    }
  }

  private readFrames(maxBytes: number): SpooledCommand[] {
    const out: SpooledCommand[] = [];
    let taken = 0;
    while (taken < maxBytes && this.read < this.written) {
      const seg = this.segments[0] as Segment;
      if (this.readPos >= seg.size) {
        // Segment done: the writer has moved on (it never appends to a segment once a later one exists).
        if (this.segments.length === 1) break;
        closeSync(seg.fd);
        rmSync(seg.path, { force: true });
        this.segments.shift();
        this.readPos = 0;
        continue;
      }
      const avail = seg.size - this.readPos;
      const want = Math.min(avail, Math.max(READ_CHUNK, 0));
      const chunk = Buffer.allocUnsafe(want);
      readSync(seg.fd, chunk, 0, want, this.readPos);
      let p = 0;
      while (p + 4 <= want && taken < maxBytes) {
        const len = chunk.readUInt32LE(p);
        if (p + 4 + len > want) break;
        out.push(parseFrame(chunk, p + 4));
        p += 4 + len;
        taken += 4 + len;
      }
      if (p === 0) {
        // One frame bigger than the read chunk: read it whole.
        const len = chunk.readUInt32LE(0);
        const big = Buffer.allocUnsafe(4 + len);
        readSync(seg.fd, big, 0, 4 + len, this.readPos);
        out.push(parseFrame(big, 4));
        p = 4 + len;
        taken += p;
      }
      this.readPos += p;
      this.read += p;
    }
    return out;
  }

  /** Closes and deletes the spool files. */
  close(): void {
    this.closed = true;
    this.wake();
    for (const s of this.segments.splice(0)) {
      closeSync(s.fd);
      rmSync(s.path, { force: true });
    }
  }
}

function parseFrame(buf: Buffer, at: number): SpooledCommand {
  const offset = buf.readDoubleLE(at);
  const argc = buf.readUInt32LE(at + 8);
  const argv: Buffer[] = new Array<Buffer>(argc);
  let p = at + 12;
  for (let i = 0; i < argc; i++) {
    const n = buf.readUInt32LE(p);
    argv[i] = buf.subarray(p + 4, p + 4 + n);
    p += 4 + n;
  }
  return { argv, offset };
}
