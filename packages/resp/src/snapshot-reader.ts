/**
 * Reads one replication transfer for RespDecoder.expectSnapshot: keepalive lines, then the header line
 * (snapshot-header.ts), then either <len> raw bytes (no trailing CRLF) or data up to the 40-byte EOF mark.
 * Pieces go to the SnapshotHandler as views of the caller's chunks (EofMarkScanner copies only held bytes).
 */
import type { SnapshotHandler } from './decoder-options.js';
import { EofMarkScanner } from './eof-mark.js';
import { RespError } from './errors.js';
import { parseSnapshotHeader } from './snapshot-header.js';
import type { RespServerError } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const MAX_HEADER_LINE = 1024;

export interface SnapshotReaderHooks {
  /** Bytes up to `abs` are consumed (a keepalive line). */
  advance(abs: number): void;
  /** The reader is done at `abs`: `ended` for a complete transfer, false when the master sent an error. */
  finish(abs: number, ended: boolean): void;
  /** The master's `-ERR` line when the handler has no onSnapshotError. */
  onError(err: RespServerError): void;
}

export class SnapshotReader {
  private phase: 'line' | 'length' | 'eof' = 'line';
  private parts: Buffer[] = [];
  private lineLen = 0;
  private lineStartAbs = 0;
  private remaining = 0;
  private scanner: EofMarkScanner | null = null;
  private done = false;

  constructor(
    private readonly handler: SnapshotHandler,
    private readonly hooks: SnapshotReaderHooks,
  ) {}

  /** Consumes from buf[pos..] (`base` = stream offset of buf[0]); returns where it stopped. */
  feed(buf: Buffer, pos: number, base: number): number {
    while (pos < buf.length && !this.done) {
      if (this.phase === 'length') return this.feedLength(buf, pos, base);
      if (this.phase === 'eof') return this.feedEof(buf, pos, base);
      pos = this.feedLine(buf, pos, base);
    }
    return pos;
  }

  private feedLine(buf: Buffer, pos: number, base: number): number {
    const len = buf.length;
    let lf = pos;
    while (lf < len && buf[lf] !== LF) lf++;
    const taken = (lf < len ? lf + 1 : len) - pos;
    if (this.lineLen === 0) this.lineStartAbs = base + pos;
    this.lineLen += taken;
    if (this.lineLen > MAX_HEADER_LINE) {
      throw new RespError('replication transfer header line too long', this.lineStartAbs);
    }
    this.parts.push(buf.subarray(pos, pos + taken));
    if (lf === len) return len;
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.lineLen);
    this.parts = [];
    this.lineLen = 0;
    let end = line.length - 1;
    if (end > 0 && line[end - 1] === CR) end--;
    const endAbs = base + lf + 1;
    const header = parseSnapshotHeader(line.toString('latin1', 0, end), this.lineStartAbs);
    switch (header.kind) {
      case 'keepalive':
        this.hooks.advance(endAbs); // a newline the master sends while it prepares the RDB
        return lf + 1;
      case 'error':
        this.done = true;
        this.hooks.finish(endAbs, false);
        if (this.handler.onSnapshotError) this.handler.onSnapshotError(header.error);
        else this.hooks.onError(header.error);
        return lf + 1;
      case 'eof':
        this.phase = 'eof';
        this.scanner = new EofMarkScanner(header.mark, (piece) => this.handler.onSnapshotChunk(piece));
        this.handler.onSnapshotStart({ length: null, eofMark: header.mark });
        return lf + 1;
      case 'length':
        this.phase = 'length';
        this.remaining = header.length;
        this.handler.onSnapshotStart({ length: header.length, eofMark: null });
        if (header.length === 0) this.end(endAbs);
        return lf + 1;
    }
  }

  private feedLength(buf: Buffer, pos: number, base: number): number {
    const take = Math.min(buf.length - pos, this.remaining);
    this.remaining -= take;
    const end = pos + take;
    if (take > 0) this.handler.onSnapshotChunk(buf.subarray(pos, end));
    if (this.remaining === 0) this.end(base + end);
    return end;
  }

  private feedEof(buf: Buffer, pos: number, base: number): number {
    const end = this.scanner!.feed(buf, pos);
    if (end === -1) return buf.length;
    this.scanner = null;
    this.end(base + end);
    return end;
  }

  private end(abs: number): void {
    this.done = true;
    this.hooks.finish(abs, true);
    this.handler.onSnapshotEnd();
  }
}
