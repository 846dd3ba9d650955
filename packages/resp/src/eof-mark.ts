/**
 * Finds the end of a diskless replication transfer: `$EOF:<40-byte mark>\r\n`, the RDB data, then the same
 * 40 bytes (replication.c readSyncBulkPayload, RDB_EOF_MARK_SIZE). The data is passed on as it arrives except
 * the last 39 bytes seen, which could be the start of the mark; those are held in a small fixed buffer.
 * Delivered pieces are views of the caller's chunk, or copies of the held bytes: never the mark itself.
 */
export const RDB_EOF_MARK_SIZE = 40;

export class EofMarkScanner {
  private readonly hold = Buffer.allocUnsafe(RDB_EOF_MARK_SIZE - 1);
  private holdLen = 0;
  private readonly scratch = Buffer.allocUnsafe(2 * (RDB_EOF_MARK_SIZE - 1));

  constructor(
    readonly mark: Buffer,
    private readonly onData: (piece: Buffer) => void,
  ) {}

  /** Consumes buf[pos..]; returns the index just past the mark when it ends in this chunk, else -1. */
  feed(buf: Buffer, pos: number): number {
    const M = RDB_EOF_MARK_SIZE;
    const len = buf.length;
    const d = len - pos;
    const h = this.holdLen;
    const headN = Math.min(d, M - 1);
    this.hold.copy(this.scratch, 0, 0, h);
    buf.copy(this.scratch, h, pos, pos + headN);
    const sLen = h + headN;
    // A mark that starts inside the held bytes lies wholly in scratch (held + first 39 bytes of the chunk).
    const inScratch = sLen >= M ? this.scratch.subarray(0, sLen).indexOf(this.mark) : -1;
    if (inScratch !== -1 && inScratch < h) {
      if (inScratch > 0) this.onData(Buffer.from(this.scratch.subarray(0, inScratch)));
      this.holdLen = 0;
      return pos + inScratch + M - h;
    }
    const inChunk = d >= M ? buf.indexOf(this.mark, pos) : -1;
    if (inChunk !== -1) {
      if (h > 0) this.onData(Buffer.from(this.hold.subarray(0, h)));
      if (inChunk > pos) this.onData(buf.subarray(pos, inChunk));
      this.holdLen = 0;
      return inChunk + M;
    }
    const total = h + d;
    const keep = Math.min(total, M - 1);
    if (d >= keep) {
      if (h > 0) this.onData(Buffer.from(this.hold.subarray(0, h)));
      if (len - keep > pos) this.onData(buf.subarray(pos, len - keep));
      buf.copy(this.hold, 0, len - keep, len);
    } else {
      // Everything (held + chunk) is in scratch.
      const emitN = total - keep;
      if (emitN > 0) this.onData(Buffer.from(this.scratch.subarray(0, emitN)));
      this.scratch.copy(this.hold, 0, emitN, total);
    }
    this.holdLen = keep;
    return -1;
  }
}
