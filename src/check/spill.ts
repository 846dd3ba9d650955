/**
 * Records of two sides, partitioned, in memory while they are small and in temporary files once they are not:
 * the store behind the snapshot join (snapshot-join.ts). Each (side, partition) fills blocks of `blockBytes`;
 * while the whole store stays under `memoryBytes` the blocks stay in memory; past it every block goes to its
 * (side, partition) file under a temporary directory and from then on each block is written when full. Memory
 * is then at most two sides x partitions x one block, whatever the number of records.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SpillOptions {
  partitions: number;
  /** Bytes kept in memory before the store goes to files. */
  memoryBytes: number;
  /** Bytes per block (a record larger than this gets a block of its own). */
  blockBytes: number;
  /** Parent directory of the temporary files (default: the OS's). */
  dir?: string;
}

interface Part {
  /** Full blocks not yet written (memory mode), each cut to its used bytes. */
  blocks: Buffer[];
  block: Buffer | null;
  used: number;
  bytes: number;
  records: number;
  fd: number;
  path: string;
}

export class SpillStore {
  private readonly parts: Part[][];
  private inMemory = 0;
  private dir: string | null = null;

  constructor(private readonly opts: SpillOptions) {
    this.parts = [0, 1].map(() =>
      Array.from({ length: opts.partitions }, () => ({
        blocks: [],
        block: null,
        used: 0,
        bytes: 0,
        records: 0,
        fd: -1,
        path: '',
      })),
    );
  }

  get partitions(): number {
    return this.opts.partitions;
  }

  /** Whether the records went to files. */
  get spilled(): boolean {
    return this.dir !== null;
  }

  /** The block the last reserve() made room in. */
  block: Buffer = Buffer.alloc(0);

  /**
   * Room for one record of `n` bytes in (side, partition): returns `at`; write the record at
   * `this.block[at, at + n)` before the next call. (No object per record: a million records a side.)
   */
  reserve(side: 0 | 1, partition: number, n: number): number {
    const p = this.parts[side]![partition]!;
    if (p.block === null || p.used + n > p.block.length) {
      if (p.fd >= 0) {
        // On file: the block is written and used again (a bigger one only for a bigger record).
        this.flush(p);
        if (p.block === null || n > p.block.length) p.block = Buffer.allocUnsafe(Math.max(this.opts.blockBytes, n));
      } else {
        if (p.block !== null && p.used > 0) p.blocks.push(p.block.subarray(0, p.used));
        p.block = Buffer.allocUnsafe(Math.max(this.opts.blockBytes, n));
        p.used = 0;
        this.inMemory += p.block.length;
        if (this.dir === null && this.inMemory > this.opts.memoryBytes) this.spill();
      }
    }
    const at = p.used;
    p.used += n;
    p.bytes += n;
    p.records++;
    this.block = p.block;
    return at;
  }

  /** Bytes of (side, partition). */
  size(side: 0 | 1, partition: number): number {
    return this.parts[side]![partition]!.bytes;
  }

  /** Records of (side, partition) (reserve() calls). */
  records(side: 0 | 1, partition: number): number {
    return this.parts[side]![partition]!.records;
  }

  /** Every byte of (side, partition) copied into `into` from `at` (room for size() bytes). */
  readAll(side: 0 | 1, partition: number, into: Buffer, at: number): void {
    const p = this.parts[side]![partition]!;
    if (p.fd < 0) {
      for (const b of p.blocks) at += b.copy(into, at);
      if (p.block !== null) p.block.copy(into, at, 0, p.used);
      return;
    }
    this.flush(p);
    for (let pos = 0; pos < p.bytes;) {
      const n = readSync(p.fd, into, at + pos, p.bytes - pos, pos);
      if (n === 0) throw new Error(`${p.path}: ${p.bytes - pos} bytes missing at its end`);
      pos += n;
    }
  }

  /**
   * The records of (side, partition), in pieces of whole records (`recordLength` reads a record's length at an
   * offset of a piece), at most about `pieceBytes` each (a single bigger record is one piece).
   */
  *read(
    side: 0 | 1,
    partition: number,
    recordLength: (buf: Buffer, at: number) => number,
    pieceBytes: number,
  ): Generator<Buffer> {
    const p = this.parts[side]![partition]!;
    if (p.fd < 0) {
      for (const b of p.blocks) yield b;
      if (p.block !== null && p.used > 0) yield p.block.subarray(0, p.used);
      return;
    }
    this.flush(p);
    // Each read into a new buffer (the pieces are the caller's to keep), after the cut record the last one ended with.
    let carry = Buffer.alloc(0);
    let pos = 0;
    const size = Math.max(64 * 1024, pieceBytes);
    for (;;) {
      const data = Buffer.allocUnsafe(Math.max(size, 2 * carry.length));
      carry.copy(data);
      const n = readSync(p.fd, data, carry.length, data.length - carry.length, pos);
      if (n === 0) break;
      pos += n;
      const end = carry.length + n;
      let at = 0;
      while (at + 8 <= end) {
        const len = recordLength(data, at);
        if (at + len > end) break;
        at += len;
      }
      if (at > 0) yield data.subarray(0, at);
      carry = data.subarray(at, end);
    }
    if (carry.length > 0) throw new Error(`${p.path}: ${carry.length} bytes of a cut record at its end`);
  }

  /** Removes the temporary files. */
  close(): void {
    for (const side of this.parts) {
      for (const p of side) {
        if (p.fd >= 0) closeSync(p.fd);
        p.fd = -1;
        p.blocks = [];
        p.block = null;
      }
    }
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  private flush(p: Part): void {
    if (p.block === null || p.used === 0) return;
    let off = 0;
    while (off < p.used) off += writeSync(p.fd, p.block, off, p.used - off);
    p.used = 0;
  }

  /** From memory to files: every partition's kept blocks written to its file (the current block stays). */
  private spill(): void {
    this.dir = mkdtempSync(join(this.opts.dir ?? tmpdir(), 'shake-check-'));
    this.parts.forEach((side, s) =>
      side.forEach((p, i) => {
        p.path = join(this.dir!, `${s}-${i}`);
        p.fd = openSync(p.path, 'w+');
        for (const b of p.blocks) {
          let off = 0;
          while (off < b.length) off += writeSync(p.fd, b, off, b.length - off);
        }
        p.blocks = [];
      }),
    );
  }
}
