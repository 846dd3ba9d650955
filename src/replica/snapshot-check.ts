/**
 * Verifies a replication snapshot while it streams past, without holding it: reads the 9-byte header
 * ("REDIS" + 4 digits, or "VALKEY" + 3 digits) and runs a CRC-64 over every byte except the trailing 8,
 * which hold the checksum Redis wrote (rdb.c rdbSaveRio: EOF opcode, then the CRC of everything before).
 * The last 8 bytes seen are held back in a fixed buffer, so the cost is one CRC pass and no allocation.
 */
import { fastCrc64 } from '@shake/rdb';

const HEADER_LEN = 9;
const TRAILER_LEN = 8;
const RDB_OPCODE_EOF = 0xff;

export interface SnapshotSummary {
  magic: 'REDIS' | 'VALKEY';
  rdbVersion: number;
  bytes: number;
  /** null when the file carries no checksum (RDB < 5, or saved with rdbchecksum no: stored as 0). */
  checksum: bigint | null;
}

export class SnapshotCheck {
  private readonly crc = fastCrc64();
  private readonly tail = Buffer.alloc(TRAILER_LEN);
  private tailLen = 0;
  private readonly header = Buffer.alloc(HEADER_LEN);
  private headerLen = 0;
  /** The byte just before the held-back tail: must be the EOF opcode at the end. */
  private lastReleased = -1;
  private total = 0;

  get bytes(): number {
    return this.total;
  }

  update(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    this.total += n;
    if (this.headerLen < HEADER_LEN) {
      const take = Math.min(HEADER_LEN - this.headerLen, n);
      chunk.copy(this.header, this.headerLen, 0, take);
      this.headerLen += take;
    }
    if (n >= TRAILER_LEN) {
      if (this.tailLen > 0) this.release(this.tail, 0, this.tailLen);
      this.release(chunk, 0, n - TRAILER_LEN);
      chunk.copy(this.tail, 0, n - TRAILER_LEN, n);
      this.tailLen = TRAILER_LEN;
      return;
    }
    const overflow = this.tailLen + n - TRAILER_LEN;
    if (overflow > 0) {
      this.release(this.tail, 0, overflow);
      this.tail.copy(this.tail, 0, overflow, this.tailLen);
      this.tailLen -= overflow;
    }
    chunk.copy(this.tail, this.tailLen, 0, n);
    this.tailLen += n;
  }

  private release(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.crc.update(buf, start, end);
    this.lastReleased = buf[end - 1]!;
  }

  /** Call once the transfer is complete. Throws an Error whose message says what is wrong. */
  finish(): SnapshotSummary {
    const head = this.header.subarray(0, this.headerLen).toString('latin1');
    let magic: 'REDIS' | 'VALKEY';
    let rdbVersion: number;
    if (/^REDIS\d{4}$/.test(head)) {
      magic = 'REDIS';
      rdbVersion = Number(head.slice(5));
    } else if (/^VALKEY\d{3}$/.test(head)) {
      magic = 'VALKEY';
      rdbVersion = Number(head.slice(6));
    } else {
      throw new Error(`the snapshot is not an RDB file (it starts with ${JSON.stringify(head)})`);
    }
    if (this.total < HEADER_LEN + 1) throw new Error(`the snapshot is truncated (${this.total} bytes)`);
    if (rdbVersion < 5) {
      // No checksum before RDB 5: the last byte must be the EOF opcode.
      const last = this.tailLen > 0 ? this.tail[this.tailLen - 1]! : this.lastReleased;
      if (last !== RDB_OPCODE_EOF) throw new Error('the snapshot does not end with the EOF opcode');
      return { magic, rdbVersion, bytes: this.total, checksum: null };
    }
    if (this.tailLen < TRAILER_LEN || this.lastReleased !== RDB_OPCODE_EOF) {
      throw new Error('the snapshot does not end with the EOF opcode and a checksum: it is truncated');
    }
    const stored = this.tail.readBigUInt64LE(0);
    if (stored === 0n) return { magic, rdbVersion, bytes: this.total, checksum: null };
    const computed = this.crc.digest();
    if (stored !== computed) {
      throw new Error(
        `the snapshot's CRC64 does not match: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
      );
    }
    return { magic, rdbVersion, bytes: this.total, checksum: stored };
  }
}
