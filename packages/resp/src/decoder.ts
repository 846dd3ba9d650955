/**
 * Streaming RESP2/RESP3 decoder. Fed from outside with `write(chunk)`; every complete top-level reply goes to
 * `onReply`. Error replies are VALUES (RespServerError), never thrown; only protocol violations throw RespError
 * (after which the decoder is unusable: discard it with its connection).
 *
 * - Bulk strings are `subarray()` views of the chunk they arrived in; only a bulk spanning chunks is copied
 *   (once, when complete). The caller must not reuse a chunk's memory after writing it.
 * - Aggregates are built on an explicit stack: nesting depth is bounded by `maxNesting`, never by recursion.
 * - Any split of the input gives the same replies; needing more bytes is state, not an exception.
 * - A top-level bulk longer than `bulkStreamThreshold` is delivered in pieces (onBulkStart/Chunk/End) instead.
 * - `expectSnapshot(handler)`: the next thing on the wire is a replication RDB transfer (see SnapshotHandler).
 *
 * Offsets: `offset` is the stream position just past the last complete top-level reply (or snapshot, or
 * skipped keepalive newline); inside onReply it already includes that reply. After a snapshot,
 * `offset - snapshotEndOffset` is the number of command-stream bytes processed (for REPLCONF ACK).
 */
import type { RespDecoderOptions, SnapshotHandler } from './decoder-options.js';
import { RespError } from './errors.js';
import { parseBigNumber, parseDouble, parseInteger, parseLength } from './numbers.js';
import { SnapshotReader } from './snapshot-reader.js';
import { RESP_TYPE as T, RespServerError, VerbatimString, type RespValue } from './types.js';

interface Frame {
  type: number;
  items: RespValue[];
  remaining: number;
}

const S_IDLE = 0;
const S_LINE = 1;
const S_BULK = 2;
const S_SNAPSHOT = 3;

const CR = 0x0d;
const LF = 0x0a;

export class RespDecoder {
  /** Stream offset just past the last complete top-level reply / snapshot / skipped keepalive. */
  offset = 0;
  /** Stream offset just past the last replication snapshot (null before any). */
  snapshotEndOffset: number | null = null;
  skipNewlines: boolean;

  private readonly opts: RespDecoderOptions;
  private readonly maxBulk: number;
  private readonly maxArray: number;
  private readonly maxNesting: number;
  private readonly maxLine: number;
  private readonly streamThreshold: number;
  private readonly mapsAsPairs: boolean;

  /** Stream offset of the current chunk's first byte. */
  private base = 0;
  private state = S_IDLE;
  private failed: RespError | null = null;
  private readonly stack: Frame[] = [];

  private lineParts: Buffer[] = [];
  private lineLen = 0;
  private lineStartAbs = 0;

  private bulkType = 0;
  private bulkLength = 0;
  private bulkRemaining = 0;
  private bulkParts: Buffer[] = [];
  private bulkView: Buffer | null = null;
  private bulkStreaming = false;
  private crlfLeft = 0;

  private snapshot: SnapshotReader | null = null;

  constructor(options: RespDecoderOptions) {
    this.opts = options;
    this.maxBulk = options.maxBulkLength ?? 512 * 1024 * 1024;
    this.maxArray = options.maxArrayLength ?? 2 ** 32 - 1;
    this.maxNesting = options.maxNesting ?? 128;
    this.maxLine = options.maxLineLength ?? 1024 * 1024;
    this.streamThreshold = options.onBulkChunk ? (options.bulkStreamThreshold ?? Infinity) : Infinity;
    this.mapsAsPairs = options.mapAs === 'pairs';
    this.skipNewlines = options.skipNewlines ?? false;
  }

  /** True when no reply, bulk or snapshot is partially received. */
  get idle(): boolean {
    return this.state === S_IDLE && this.stack.length === 0;
  }

  /** Total bytes written so far. */
  get bytesReceived(): number {
    return this.base;
  }

  /**
   * The next thing on the wire is a replication RDB transfer. Call it between replies, typically from
   * onReply of `+FULLRESYNC <replid> <offset>`: the rest of the current chunk is then read as the transfer.
   * Keepalive empty lines before it are skipped; `-ERR` goes to onSnapshotError. After onSnapshotEnd,
   * normal decoding resumes with whatever follows (the command stream).
   */
  expectSnapshot(handler: SnapshotHandler): void {
    if (!this.idle) throw new Error('expectSnapshot: a reply is partially decoded');
    this.state = S_SNAPSHOT;
    this.snapshot = new SnapshotReader(handler, {
      advance: (abs) => (this.offset = abs),
      finish: (abs, ended) => {
        this.snapshot = null;
        this.state = S_IDLE;
        this.offset = abs;
        if (ended) this.snapshotEndOffset = abs;
      },
      onError: (err) => this.opts.onReply(err),
    });
  }

  write(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    try {
      const len = chunk.length;
      let pos = 0;
      while (pos < len) {
        switch (this.state) {
          case S_IDLE:
            pos = this.parseItems(chunk, pos);
            break;
          case S_LINE:
            pos = this.continueLine(chunk, pos);
            break;
          case S_BULK:
            pos = this.consumeBulk(chunk, pos);
            break;
          default:
            pos = this.snapshot!.feed(chunk, pos, this.base);
        }
      }
      this.base += len;
    } catch (err) {
      if (err instanceof RespError) this.failed = err;
      throw err;
    }
  }

  /** Hot loop: whole lines and bulks that sit inside the chunk are decoded without leaving it. */
  private parseItems(buf: Buffer, pos: number): number {
    const len = buf.length;
    while (pos < len && this.state === S_IDLE) {
      const type = buf[pos]!;
      if (type === LF && this.skipNewlines && this.stack.length === 0) {
        pos++;
        this.offset = this.base + pos;
        continue;
      }
      let lf = pos + 1;
      const limit = Math.min(len, pos + this.maxLine + 3);
      while (lf < limit && buf[lf] !== LF) lf++;
      if (lf >= len) {
        if (len - pos > this.maxLine + 2) this.lineTooLong(pos);
        this.state = S_LINE;
        this.lineParts = [buf.subarray(pos)];
        this.lineLen = len - pos;
        this.lineStartAbs = this.base + pos;
        return len;
      }
      if (lf === limit) this.lineTooLong(pos);
      const abs = this.base + pos;
      const start = pos + 1;
      pos = lf + 1;
      if (lf === start && type === CR) {
        this.keepalive(abs);
        continue;
      }
      if (buf[lf - 1] !== CR) throw new RespError('expected CR before LF', this.base + lf - 1, buf[lf - 1]);
      this.handleLine(type, buf, start, lf - 1, abs, this.base + pos);
      if ((this.state as number) === S_BULK) pos = this.consumeBulk(buf, pos);
    }
    return pos;
  }

  private keepalive(abs: number): void {
    if (!this.skipNewlines || this.stack.length !== 0) throw new RespError('unexpected empty line', abs, CR);
    this.offset = abs + 2;
  }

  private lineTooLong(pos: number): never {
    throw new RespError(`line longer than maxLineLength (${this.maxLine})`, this.base + pos);
  }

  private continueLine(buf: Buffer, pos: number): number {
    const len = buf.length;
    let lf = pos;
    while (lf < len && buf[lf] !== LF) lf++;
    const taken = (lf < len ? lf + 1 : len) - pos;
    this.lineLen += taken;
    if (this.lineLen > this.maxLine + 3) {
      throw new RespError(`line longer than maxLineLength (${this.maxLine})`, this.lineStartAbs);
    }
    this.lineParts.push(buf.subarray(pos, pos + taken));
    if (lf === len) return len;
    const line = Buffer.concat(this.lineParts, this.lineLen);
    this.lineParts = [];
    this.lineLen = 0;
    this.state = S_IDLE;
    const end = line.length - 2; // index of CR
    const endAbs = this.base + lf + 1;
    if (line[end] !== CR) throw new RespError('expected CR before LF', endAbs - 2, line[end]);
    if (line.length === 2) this.keepalive(this.lineStartAbs);
    else this.handleLine(line[0]!, line, 1, end, this.lineStartAbs, endAbs);
    return lf + 1;
  }

  /** One complete line: content is buf[start, end) (end = index of CR); abs = stream offset of the type byte. */
  private handleLine(type: number, buf: Buffer, start: number, end: number, abs: number, endAbs: number): void {
    const at = abs + 1;
    switch (type) {
      case T.SIMPLE_STRING:
        this.emit(
          end - start === 2 && buf[start] === 0x4f && buf[start + 1] === 0x4b ? 'OK' : buf.toString('utf8', start, end),
          endAbs,
        );
        return;
      case T.SIMPLE_ERROR:
        this.emit(new RespServerError(buf.toString('utf8', start, end)), endAbs);
        return;
      case T.INTEGER:
        this.emit(parseInteger(buf, start, end, at), endAbs);
        return;
      case T.BULK_STRING:
      case T.BULK_ERROR:
      case T.VERBATIM_STRING: {
        if (buf[start] === 0x3f) throw new RespError('streamed RESP3 strings are not supported', at, 0x3f);
        const n = parseLength(buf, start, end, at, 'bulk');
        if (n === -1) {
          if (type !== T.BULK_STRING) throw new RespError('negative length', at, 0x2d);
          this.emit(null, endAbs);
          return;
        }
        if (n > this.maxBulk) throw new RespError(`bulk length ${n} exceeds maxBulkLength ${this.maxBulk}`, at);
        if (type === T.VERBATIM_STRING && n < 4) throw new RespError('verbatim string shorter than its format', at);
        this.state = S_BULK;
        this.bulkType = type;
        this.bulkLength = n;
        this.bulkRemaining = n;
        this.crlfLeft = 2;
        this.bulkStreaming = type === T.BULK_STRING && n > this.streamThreshold && this.stack.length === 0;
        if (this.bulkStreaming) this.opts.onBulkStart?.(n);
        return;
      }
      case T.ARRAY:
      case T.SET:
      case T.PUSH:
      case T.MAP:
      case T.ATTRIBUTE: {
        if (buf[start] === 0x3f) throw new RespError('streamed RESP3 aggregates are not supported', at, 0x3f);
        const n = parseLength(buf, start, end, at, 'aggregate');
        if (n === -1) {
          if (type !== T.ARRAY) throw new RespError('negative length', at, 0x2d);
          this.emit(null, endAbs);
          return;
        }
        const elements = type === T.MAP || type === T.ATTRIBUTE ? 2 * n : n;
        if (elements > this.maxArray) {
          throw new RespError(`aggregate of ${elements} elements exceeds maxArrayLength ${this.maxArray}`, at);
        }
        if (elements === 0) {
          this.finishAggregate({ type, items: [], remaining: 0 }, endAbs);
          return;
        }
        if (this.stack.length >= this.maxNesting) {
          throw new RespError(`nesting deeper than maxNesting ${this.maxNesting}`, abs, type);
        }
        this.stack.push({ type, items: [], remaining: elements });
        return;
      }
      case T.NULL:
        if (end !== start) throw new RespError('null with content', at, buf[start]);
        this.emit(null, endAbs);
        return;
      case T.BOOLEAN: {
        const b = buf[start];
        if (end - start !== 1 || (b !== 0x74 && b !== 0x66)) throw new RespError('bad boolean', at, b);
        this.emit(b === 0x74, endAbs);
        return;
      }
      case T.DOUBLE:
        this.emit(parseDouble(buf, start, end, at), endAbs);
        return;
      case T.BIG_NUMBER:
        this.emit(parseBigNumber(buf, start, end, at), endAbs);
        return;
      default:
        throw new RespError(`unknown RESP type byte 0x${type.toString(16).padStart(2, '0')}`, abs, type);
    }
  }

  private consumeBulk(buf: Buffer, pos: number): number {
    const len = buf.length;
    if (this.bulkRemaining > 0) {
      const rem = this.bulkRemaining;
      const avail = len - pos;
      if (avail >= rem && this.bulkParts.length === 0 && !this.bulkStreaming) {
        this.bulkView = buf.subarray(pos, pos + rem);
        pos += rem;
        this.bulkRemaining = 0;
      } else {
        const take = avail < rem ? avail : rem;
        if (take > 0) {
          const piece = buf.subarray(pos, pos + take);
          if (this.bulkStreaming) this.opts.onBulkChunk?.(piece);
          else this.bulkParts.push(piece);
        }
        pos += take;
        this.bulkRemaining = rem - take;
        if (this.bulkRemaining > 0) return pos;
      }
    }
    while (this.crlfLeft > 0) {
      if (pos >= len) return pos;
      const expected = this.crlfLeft === 2 ? CR : LF;
      if (buf[pos] !== expected) {
        throw new RespError(`expected ${expected === CR ? 'CR' : 'LF'} after bulk`, this.base + pos, buf[pos]);
      }
      pos++;
      this.crlfLeft--;
    }
    this.state = S_IDLE;
    const endAbs = this.base + pos;
    if (this.bulkStreaming) {
      this.bulkStreaming = false;
      this.offset = endAbs;
      this.opts.onBulkEnd?.();
      return pos;
    }
    let value: Buffer;
    if (this.bulkView) {
      value = this.bulkView;
      this.bulkView = null;
    } else {
      const parts = this.bulkParts;
      value = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.bulkLength);
      this.bulkParts = [];
    }
    if (this.bulkType === T.BULK_STRING) this.emit(value, endAbs);
    else if (this.bulkType === T.BULK_ERROR) this.emit(new RespServerError(value.toString('utf8')), endAbs);
    else this.emit(new VerbatimString(value.toString('latin1', 0, 3), value.subarray(4)), endAbs);
    return pos;
  }

  /** Attach a finished value to its parent aggregate, finishing parents in turn (a loop, not recursion). */
  private emit(value: RespValue, endAbs: number): void {
    const stack = this.stack;
    let v = value;
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        this.offset = endAbs;
        this.opts.onReply(v);
        return;
      }
      top.items.push(v);
      if (--top.remaining > 0) return;
      stack.pop();
      const done = this.finishValue(top);
      if (done === undefined) return;
      if (done === PUSH_DELIVERED) {
        this.offset = endAbs;
        return;
      }
      v = done;
    }
  }

  private finishAggregate(frame: Frame, endAbs: number): void {
    const done = this.finishValue(frame);
    if (done === PUSH_DELIVERED) this.offset = endAbs;
    else if (done !== undefined) this.emit(done, endAbs);
  }

  /** The value a finished frame stands for; undefined for an attribute (it precedes the real value). */
  private finishValue(frame: Frame): RespValue | typeof PUSH_DELIVERED | undefined {
    switch (frame.type) {
      case T.MAP:
        return this.toMap(frame.items);
      case T.ATTRIBUTE:
        this.opts.onAttribute?.(this.toMap(frame.items));
        return undefined;
      case T.PUSH:
        if (this.stack.length === 0 && this.opts.onPush) {
          this.opts.onPush(frame.items);
          return PUSH_DELIVERED;
        }
        return frame.items;
      default:
        return frame.items;
    }
  }

  private toMap(items: RespValue[]): Map<RespValue, RespValue> | Array<[RespValue, RespValue]> {
    if (this.mapsAsPairs) {
      const pairs: Array<[RespValue, RespValue]> = [];
      for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
      return pairs;
    }
    const map = new Map<RespValue, RespValue>();
    for (let i = 0; i < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
    return map;
  }
}

const PUSH_DELIVERED: unique symbol = Symbol('push delivered');

/**
 * The argvs of commands encoded back to back (EncodedCommands.bytes, or any run of RESP arrays of bulk
 * strings), each argument a Buffer view of `bytes`. Throws RespError on anything else or a truncated command.
 */
export function decodeCommands(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  const decoder = new RespDecoder({
    onReply: (v) => {
      if (!Array.isArray(v) || !v.every((a) => Buffer.isBuffer(a))) {
        throw new RespError('not a command (an array of bulk strings)', 0);
      }
      out.push(v as Buffer[]);
    },
  });
  decoder.write(bytes);
  if (!decoder.idle) throw new RespError('truncated command', bytes.length);
  return out;
}
