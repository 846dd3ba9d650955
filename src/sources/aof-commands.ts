/**
 * The command part of an append-only file: RESP arrays of bulk strings (`*<argc>\r\n$<len>\r\n<bytes>\r\n...`),
 * with `#...` annotation lines (Redis 7 `#TS:<unix seconds>`) skipped, as aof.c loadSingleAppendOnlyFile reads it.
 *
 * Fed chunks from outside; commands are cut whole and handed out as views into the input (no copy). A command
 * that spans chunks is assembled once, when enough bytes are known to be buffered (no re-parse per chunk).
 */

export class AofError extends Error {
  override readonly name = 'AofError';
  constructor(
    /** What was wrong (the message adds where). */
    readonly problem: string,
    /** Byte offset in the file. */
    readonly offset: number,
    /** Which file (multi-part AOF: the part's name). */
    readonly file?: string,
  ) {
    super(`bad AOF: ${problem} at byte ${offset}${file ? ` of ${file}` : ''}`);
  }
}

export interface AofCommand {
  argv: Buffer[];
  /** Byte offset of the command's `*` in the file. */
  offset: number;
}

const STAR = 0x2a;
const DOLLAR = 0x24;
const HASH = 0x23;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
/** aof.c AOF_ANNOTATION_LINE_MAX_LEN is 1024: an annotation or header line longer than this is bad input. */
const MAX_LINE = 1024;
/** Same limits the server enforces on a command (proto-max-bulk-len default 512 MB; argc sanity). */
const MAX_BULK = 512 * 1024 * 1024;
const MAX_ARGC = 1024 * 1024 * 1024;

export class AofCommandParser {
  private buf: Buffer = EMPTY;
  /** Absolute offset of buf[0] in the file. */
  private base = 0;
  /** Bytes of the command being assembled that are buffered in `pending` rather than `buf`. */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Total bytes needed (from buf[0]) before parsing the current command can make progress. */
  private need = 0;

  constructor(
    private readonly file?: string,
    startOffset = 0,
  ) {
    this.base = startOffset;
  }

  /** Bytes consumed (whole commands and annotations) so far, as an absolute file offset. */
  get offset(): number {
    return this.base;
  }

  /** True when bytes of an unfinished command are buffered. */
  get hasPartial(): boolean {
    return this.buf.length + this.pendingLen > 0;
  }

  /** Parse as many whole commands as the input holds; append them to `out`. */
  push(chunk: Buffer, out: AofCommand[]): void {
    if (chunk.length === 0) return;
    if (this.buf.length === 0) {
      this.buf = chunk;
    } else {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      if (this.buf.length + this.pendingLen < this.need) return;
      this.buf = Buffer.concat([this.buf, ...this.pending], this.buf.length + this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
    }
    this.parse(out);
  }

  private parse(out: AofCommand[]): void {
    const buf = this.buf;
    let pos = 0;
    for (;;) {
      if (pos >= buf.length) break;
      const start = pos;
      const first = buf[pos];
      if (first === HASH) {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) {
          if (buf.length - pos > MAX_LINE) this.fail('annotation line too long', start);
          this.need = buf.length - pos + 1;
          break;
        }
        pos = nl + 1;
        continue;
      }
      if (first !== STAR) this.fail(`expected '*' (a command) but found byte 0x${hex(first)}`, start);
      const r = this.parseCommand(buf, pos);
      if (r === null) break;
      out.push({ argv: r.argv, offset: this.base + start });
      pos = r.end;
    }
    this.buf = pos >= buf.length ? EMPTY : buf.subarray(pos);
    this.base += pos;
    if (this.buf.length === 0) this.need = 0;
    else this.need = Math.max(this.need, this.buf.length + 1);
  }

  /** One whole command from `start`, or null (with `need` set) when more input is required. */
  private parseCommand(buf: Buffer, start: number): { argv: Buffer[]; end: number } | null {
    let pos = start + 1;
    const argc = this.readInt(buf, pos, start);
    if (argc === null) return this.more(buf, start, 0);
    pos = argc.next;
    if (argc.value < 1 || argc.value > MAX_ARGC) this.fail(`bad argument count ${argc.value}`, start);
    const argv: Buffer[] = [];
    for (let i = 0; i < argc.value; i++) {
      if (pos >= buf.length) return this.more(buf, start, 0);
      if (buf[pos] !== DOLLAR) this.fail(`expected '$' (argument ${i + 1} of ${argc.value})`, pos);
      const len = this.readInt(buf, pos + 1, pos);
      if (len === null) return this.more(buf, start, 0);
      if (len.value < 0 || len.value > MAX_BULK) this.fail(`bad argument length ${len.value}`, pos);
      const end = len.next + len.value;
      if (end + 2 > buf.length) return this.more(buf, start, end + 2 - start);
      if (buf[end] !== CR || buf[end + 1] !== LF) this.fail('argument not followed by CRLF', end);
      argv.push(buf.subarray(len.next, end));
      pos = end + 2;
    }
    return { argv, end: pos };
  }

  private more(buf: Buffer, start: number, needFromStart: number): null {
    this.need = Math.max(needFromStart, buf.length - start + 1);
    return null;
  }

  /** Decimal integer terminated by CRLF, starting at pos; null when the line is incomplete. */
  private readInt(buf: Buffer, pos: number, lineStart: number): { value: number; next: number } | null {
    let value = 0;
    let neg = false;
    let i = pos;
    if (i < buf.length && buf[i] === 0x2d) {
      neg = true;
      i++;
    }
    const digitsStart = i;
    for (; i < buf.length; i++) {
      const c = buf[i] as number;
      if (c >= 0x30 && c <= 0x39) {
        value = value * 10 + (c - 0x30);
        if (i - digitsStart > 15) this.fail('number too long', lineStart);
        continue;
      }
      if (c !== CR) this.fail(`bad byte 0x${hex(c)} in a number`, i);
      if (i === digitsStart) this.fail('empty number', i);
      if (i + 1 >= buf.length) return null;
      if (buf[i + 1] !== LF) this.fail('CR not followed by LF', i + 1);
      return { value: neg ? -value : value, next: i + 2 };
    }
    if (i - lineStart > MAX_LINE) this.fail('line too long', lineStart);
    return null;
  }

  private fail(message: string, bufPos: number): never {
    throw new AofError(message, this.base + bufPos, this.file);
  }
}

function hex(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, '0');
}
