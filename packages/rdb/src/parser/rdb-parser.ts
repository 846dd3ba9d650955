/**
 * The streaming RDB parser: fed Buffer chunks of any size, returns the events each chunk completed.
 * File layout (rdb.c rdbLoadRioWithLoadingCtx): a 9-byte header ("REDIS" + 4 digits, or Valkey 9's
 * "VALKEY" + 3 digits), then opcodes and keys until the EOF opcode, then (RDB >= 5) the CRC64 of
 * everything before it as 8 little-endian bytes (0 = checksums disabled).
 *
 * Memory is bounded by the largest single element (a string, a listpack, a quicklist node): keys
 * are read element by element and reported as key-start, batches, key-end.
 */
import { fastCrc64, type RunningCrc64 } from '../encodings/crc64-wasm.js';

/** The running checksum of a DUMP payload body parser: none (parseDumpPayload checks the footer). */
const NO_CRC: RunningCrc64 = {
  update() {
    return NO_CRC;
  },
  digest: () => 0n,
};
import { RDB_OPCODE, RDB_TYPE } from '../constants.js';
import { RdbError } from '../errors.js';
import { moduleTypeName } from '../module-id.js';
import type { KeyHeader, KeySink, RdbEvent, RdbParserOptions } from '../types.js';
import type { DecodeContext, ValueDecoder } from './context.js';
import { Cursor, NEED_MORE, hex } from './cursor.js';
import { MAX_KNOWN_VALKEY_RDB_VERSION, VALKEY_RDB_VERSION_MIN, valueLayout } from './layouts.js';
import { readModuleFields } from './module.js';
import { SkipDecoder, skipPlan } from './skip.js';
import { isStreamType, StreamSkipDecoder } from './stream-skip.js';

const STATE = {
  HEADER: 0,
  OPCODE: 1,
  VALUE: 2,
  MODULE_AUX: 3,
  CHECKSUM: 4,
  DONE: 5,
  PAYLOAD_TYPE: 6,
} as const;
type State = (typeof STATE)[keyof typeof STATE];

const EMPTY_KEY = Buffer.alloc(0);
const DEFAULT_BATCH = 1024;
const DEFAULT_MAX_ELEMENT = 1024 * 1024 * 1024;
/** Highest header version accepted with the REDIS magic (beyond 12, types and opcodes must still be known). */
const MAX_REDIS_MAGIC_VERSION = 79;

interface PendingModuleAux {
  moduleId: bigint;
  name: string;
  encver: number;
  when: number;
  offset: number;
}

export class RdbParser {
  private readonly cur: Cursor;
  private readonly batchSize: number;
  /** What value decoders see: the cursor, the batch size, and emit. */
  private readonly ctx: DecodeContext;
  /** values: false: the reused skipping decoders (streams: stream-skip.ts), and a context whose events are dropped (modules). */
  private readonly skipper: SkipDecoder | null;
  private readonly streamSkipper: StreamSkipDecoder | null;
  private readonly silentCtx: DecodeContext;
  private readonly verifyChecksum: boolean;
  private readonly captureRawLimit: number;
  private readonly crc: RunningCrc64;
  /** checksum: false: the CRC is not computed, the stored one not checked. */
  private readonly noChecksum: boolean;
  private readonly keySink: KeySink | null;
  /** keySink: the current key's type byte. */
  private sinkType = 0;
  private out: RdbEvent[] = [];
  private state: State = STATE.HEADER;
  private failure: RdbError | null = null;
  private version = 0;
  private valkey = false;
  private db = 0;
  // Opcodes that belong to the next key.
  private expireAtMs: number | null = null;
  private idle: number | undefined;
  private freq: number | undefined;
  private keyOffset = -1;
  private decoder: ValueDecoder | null = null;
  private header: KeyHeader | null = null;
  private moduleAux: PendingModuleAux | null = null;
  private eofOffset = 0;
  private payload = false;

  /** @param payloadBody internal (forPayloadBody): no running checksum, the payload's footer carries its own. */
  constructor(opts: RdbParserOptions = {}, payloadBody = false) {
    const batch = opts.batchSize ?? DEFAULT_BATCH;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batchSize must be a positive integer: ${batch}`);
    this.batchSize = batch;
    this.verifyChecksum = opts.verifyChecksum ?? true;
    this.captureRawLimit = Math.max(0, opts.captureRawLimit ?? 0);
    // A payload body has no file checksum to keep: a WebAssembly CRC instance per payload would cost more than
    // parsing a small value.
    this.crc = payloadBody || opts.checksum === false ? NO_CRC : fastCrc64();
    this.noChecksum = opts.checksum === false;
    this.keySink = opts.keySink ?? null;
    if (this.keySink && opts.values !== false) throw new RangeError('keySink needs values: false');
    this.cur = new Cursor(opts.maxElementSize ?? DEFAULT_MAX_ELEMENT, this.crc);
    this.ctx = { cur: this.cur, batchSize: this.batchSize, emit: (event) => this.emit(event) };
    this.skipper = opts.values === false ? new SkipDecoder(this.cur) : null;
    this.streamSkipper = opts.values === false ? new StreamSkipDecoder(this.cur) : null;
    this.silentCtx = { cur: this.cur, batchSize: this.batchSize, emit: () => {} };
  }

  /**
   * A parser for one DUMP payload body (type byte + value, no header, no opcodes, no key), written by a
   * server of this RDB version. The caller checks the payload's footer. Used by dump-payload.ts (dumpBodyEvents).
   * @internal
   */
  static forPayloadBody(rdbVersion: number, opts: RdbParserOptions = {}): RdbParser {
    const p = new RdbParser(opts, true);
    p.version = rdbVersion;
    p.valkey = rdbVersion >= VALKEY_RDB_VERSION_MIN;
    p.db = -1;
    p.payload = true;
    p.state = STATE.PAYLOAD_TYPE;
    return p;
  }

  /** Absolute number of input bytes consumed so far. */
  get offset(): number {
    return this.cur.offset;
  }

  /** True once the EOF opcode (and checksum) were read. Bytes pushed after that are not parsed. */
  get done(): boolean {
    return this.state === STATE.DONE;
  }

  /** The header's RDB version (0 until the header was read). */
  get rdbVersion(): number {
    return this.version;
  }

  /** Bytes received after the end of the RDB (e.g. the AOF commands after an RDB preamble). */
  trailing(): Buffer {
    return this.state === STATE.DONE ? this.cur.buf.subarray(this.cur.pos, this.cur.end) : EMPTY_KEY;
  }

  private emit(event: RdbEvent): void {
    this.out.push(event);
  }

  /** Parse as far as possible; returns the events completed by this chunk. Takes ownership of `chunk`. */
  push(chunk: Buffer): RdbEvent[] {
    if (this.failure) throw this.failure;
    this.cur.append(chunk);
    if (this.state !== STATE.DONE) this.run();
    const out = this.out;
    this.out = [];
    return out;
  }

  /** The input is complete: returns the last events, or throws RdbError when the RDB is truncated. */
  end(): RdbEvent[] {
    if (this.failure) throw this.failure;
    if (this.state !== STATE.DONE) {
      const what = this.header ? ` in the value of a ${this.header.type} key` : '';
      this.failure = new RdbError(`unexpected end of file${what}`, this.cur.at(this.cur.end), this.cur.key);
      throw this.failure;
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  private run(): void {
    const cur = this.cur;
    try {
      for (;;) {
        switch (this.state) {
          case STATE.HEADER:
            this.readHeader();
            break;
          case STATE.OPCODE:
            this.readOpcode();
            break;
          case STATE.VALUE:
            this.decoder!.step();
            this.finishKey();
            break;
          case STATE.MODULE_AUX:
            this.readModuleAux();
            break;
          case STATE.CHECKSUM:
            this.readChecksum();
            break;
          case STATE.PAYLOAD_TYPE: {
            const at = cur.pos;
            this.beginKey(cur.u8(), at);
            break;
          }
          default:
            return;
        }
      }
    } catch (e) {
      if (e === NEED_MORE) {
        cur.pos = cur.mark;
        return;
      }
      if (e instanceof RdbError) this.failure = e;
      throw e;
    }
  }

  private readHeader(): void {
    const cur = this.cur;
    const h = cur.bytes(9);
    const text = h.toString('latin1');
    let magic: 'REDIS' | 'VALKEY';
    let digits: string;
    if (text.startsWith('REDIS')) {
      magic = 'REDIS';
      digits = text.slice(5);
    } else if (text.startsWith('VALKEY')) {
      magic = 'VALKEY';
      digits = text.slice(6);
    } else {
      throw cur.error(`not an RDB file: header 0x${h.toString('hex')}`, cur.at(0));
    }
    if (!/^[0-9]+$/.test(digits)) throw cur.error(`invalid RDB version "${digits}" in the header`, cur.at(0));
    const version = Number(digits);
    if (magic === 'REDIS' ? version < 1 || version > MAX_REDIS_MAGIC_VERSION : version < VALKEY_RDB_VERSION_MIN) {
      throw cur.error(`unsupported RDB version ${version} with magic ${magic}`, cur.at(0));
    }
    if (magic === 'VALKEY' && version > MAX_KNOWN_VALKEY_RDB_VERSION) {
      throw cur.error(`unsupported Valkey RDB version ${version}`, cur.at(0));
    }
    this.version = version;
    this.valkey = magic === 'VALKEY';
    cur.mark = cur.pos;
    this.state = STATE.OPCODE;
    this.emit({ kind: 'header', magic, version, offset: 0 });
  }

  private noteKeyOpcode(at: number): void {
    if (this.keyOffset < 0) this.keyOffset = at;
  }

  private readOpcode(): void {
    const cur = this.cur;
    const at = cur.pos;
    const offset = cur.at(at);
    const t = cur.u8();
    switch (t) {
      case RDB_OPCODE.EXPIRETIME_MS: {
        const ms = cur.i64le();
        this.noteKeyOpcode(offset);
        this.expireAtMs = ms;
        break;
      }
      case RDB_OPCODE.EXPIRETIME: {
        const s = cur.i32le();
        this.noteKeyOpcode(offset);
        this.expireAtMs = s * 1000;
        break;
      }
      case RDB_OPCODE.IDLE: {
        const idle = cur.len();
        this.noteKeyOpcode(offset);
        this.idle = idle;
        break;
      }
      case RDB_OPCODE.FREQ: {
        const freq = cur.u8();
        this.noteKeyOpcode(offset);
        this.freq = freq;
        break;
      }
      case RDB_OPCODE.SELECTDB: {
        const db = cur.len();
        this.db = db;
        this.emit({ kind: 'select-db', db, offset });
        break;
      }
      case RDB_OPCODE.RESIZEDB: {
        const dbSize = cur.len();
        const expiresSize = cur.len();
        this.emit({ kind: 'resize-db', dbSize, expiresSize, offset });
        break;
      }
      case RDB_OPCODE.SLOT_INFO: {
        const slot = cur.len();
        const slotSize = cur.len();
        const expiresSlotSize = cur.len();
        this.emit({ kind: 'slot-info', slot, slotSize, expiresSlotSize, offset });
        break;
      }
      case RDB_OPCODE.AUX: {
        const key = cur.string();
        const value = cur.string();
        this.emit({ kind: 'aux', key, value, offset });
        break;
      }
      case RDB_OPCODE.FUNCTION2: {
        const code = cur.string();
        this.emit({ kind: 'function', code, offset });
        break;
      }
      case RDB_OPCODE.FUNCTION_PRE_GA: {
        const name = cur.string();
        const engine = cur.string();
        const hasDesc = cur.len();
        const description = hasDesc ? cur.string() : null;
        const code = cur.string();
        this.emit({ kind: 'function-pre-ga', name, engine, description, code, offset });
        break;
      }
      case RDB_OPCODE.MODULE_AUX:
        this.beginModuleAux(at, offset);
        return;
      case RDB_OPCODE.EOF:
        cur.crcToPos();
        this.eofOffset = offset;
        cur.mark = cur.pos;
        if (this.version >= 5) {
          this.state = STATE.CHECKSUM;
        } else {
          this.state = STATE.DONE;
          this.emit({ kind: 'end', offset, checksum: null });
        }
        return;
      default:
        this.beginKey(t, at);
        return;
    }
    cur.mark = cur.pos;
  }

  /** A key: type byte (already read), name, and what its value states up front. One unit. */
  private beginKey(rdbType: number, at: number): void {
    if (this.keySink && !this.payload) {
      this.beginSinkKey(rdbType, at);
      return;
    }
    const cur = this.cur;
    const layout = valueLayout(rdbType, this.valkey);
    if (!layout) {
      const what = this.payload ? 'value type' : 'value type or opcode';
      throw cur.error(`unknown ${what} ${rdbType} (0x${hex(rdbType)})`, cur.at(at));
    }
    const key = this.payload ? EMPTY_KEY : cur.string();
    cur.key = key;
    const valueStart = cur.pos;
    const header: KeyHeader = {
      db: this.db,
      key,
      type: layout.type,
      rdbType,
      encoding: layout.encoding,
      expireAtMs: this.expireAtMs,
      offset: this.keyOffset >= 0 ? this.keyOffset : cur.at(at),
    };
    if (this.idle !== undefined) header.idle = this.idle;
    if (this.freq !== undefined) header.freq = this.freq;
    let decoder: ValueDecoder;
    if (this.skipper) {
      const plan = skipPlan(rdbType, this.valkey);
      decoder = plan
        ? this.skipper.reset(plan)
        : isStreamType(rdbType)
          ? this.streamSkipper!.reset(rdbType)
          : layout.make(this.silentCtx);
    } else {
      decoder = layout.make(this.ctx);
    }
    const length = decoder.begin(header);
    // The unit is complete: commit and report.
    if (rdbType === RDB_TYPE.MODULE_2) cur.startCapture(valueStart, cur.maxElementSize);
    else if (this.captureRawLimit > 0) cur.startCapture(valueStart, this.captureRawLimit);
    cur.mark = cur.pos;
    this.expireAtMs = null;
    this.idle = this.freq = undefined;
    this.keyOffset = -1;
    this.decoder = decoder;
    this.header = header;
    this.state = STATE.VALUE;
    this.emit(length === undefined ? { kind: 'key-start', header } : { kind: 'key-start', header, length });
  }

  /** beginKey with keySink: the name as a range, no header, no event. */
  private beginSinkKey(rdbType: number, at: number): void {
    const cur = this.cur;
    const plan = skipPlan(rdbType, this.valkey);
    let decoder: ValueDecoder;
    if (plan) {
      decoder = this.skipper!.reset(plan);
    } else if (isStreamType(rdbType)) {
      decoder = this.streamSkipper!.reset(rdbType);
    } else {
      const layout = valueLayout(rdbType, this.valkey);
      if (!layout) throw cur.error(`unknown value type or opcode ${rdbType} (0x${hex(rdbType)})`, cur.at(at));
      decoder = layout.make(this.silentCtx);
    }
    cur.stringRange();
    const valueStart = cur.pos;
    decoder.begin(this.sinkHeader);
    if (rdbType === RDB_TYPE.MODULE_2) cur.startCapture(valueStart, cur.maxElementSize);
    else if (this.captureRawLimit > 0) cur.startCapture(valueStart, this.captureRawLimit);
    cur.mark = cur.pos;
    const expireAtMs = this.expireAtMs;
    this.expireAtMs = null;
    this.idle = this.freq = undefined;
    this.keyOffset = -1;
    this.decoder = decoder;
    this.sinkType = rdbType;
    this.state = STATE.VALUE;
    this.keySink!.key(cur.rangeBuf, cur.rangeStart, cur.rangeEnd, this.db, rdbType, expireAtMs);
  }

  /** finishKey with keySink. */
  private finishSinkKey(): void {
    const cur = this.cur;
    const sink = this.keySink!;
    const type = this.sinkType;
    const own = this.decoder!.captured;
    let got: boolean;
    if (own === undefined) {
      got = cur.endCaptureInto(this.sinkValue, type);
    } else {
      got = !!own && own.length <= this.captureRawLimit;
      if (got) sink.value(own!, 0, own!.length, type);
    }
    cur.mark = cur.pos;
    this.decoder = null;
    this.state = STATE.OPCODE;
    if (!got) sink.value(null, 0, 0, type);
  }

  private readonly sinkValue = (buf: Buffer, start: number, end: number, rdbType: number): void =>
    this.keySink!.value(buf, start, end, rdbType);

  /** The header value decoders' begin() may write to (an encoding name) under keySink: reused, never reported. */
  private readonly sinkHeader: KeyHeader = {
    db: 0,
    key: EMPTY_KEY,
    type: 'string',
    rdbType: 0,
    encoding: 'raw',
    expireAtMs: null,
    offset: 0,
  };

  private finishKey(): void {
    if (this.keySink && !this.payload) {
      this.finishSinkKey();
      return;
    }
    const cur = this.cur;
    const header = this.header!;
    let raw: Buffer | null | undefined = this.decoder!.captured;
    if (raw === undefined) raw = cur.endCapture();
    else if (raw && raw.length > this.captureRawLimit) raw = null;
    cur.mark = cur.pos;
    this.decoder = null;
    this.header = null;
    cur.key = undefined;
    this.state = this.payload ? STATE.DONE : STATE.OPCODE;
    this.emit(raw ? { kind: 'key-end', header, raw } : { kind: 'key-end', header });
  }

  private beginModuleAux(at: number, offset: number): void {
    const cur = this.cur;
    const idAt = cur.pos;
    const moduleId = cur.lenBig();
    const whenOpcode = cur.len();
    const when = cur.len();
    const { name, encver } = moduleTypeName(moduleId);
    if (whenOpcode !== 2) {
      throw cur.error(`module aux data of module type ${name}: bad when-opcode ${whenOpcode}`, cur.at(at));
    }
    cur.startCapture(idAt, cur.maxElementSize);
    cur.mark = cur.pos;
    this.moduleAux = { moduleId, name, encver, when, offset };
    this.state = STATE.MODULE_AUX;
  }

  private readModuleAux(): void {
    const cur = this.cur;
    const aux = this.moduleAux!;
    readModuleFields(cur, aux.name);
    const raw = cur.endCapture();
    if (!raw) throw cur.error(`module ${aux.name} aux data exceeds maxElementSize ${cur.maxElementSize}`);
    this.moduleAux = null;
    this.state = STATE.OPCODE;
    this.emit({
      kind: 'module-aux',
      module: { moduleId: aux.moduleId, name: aux.name, encver: aux.encver, raw },
      when: aux.when,
      offset: aux.offset,
    });
  }

  private readChecksum(): void {
    const cur = this.cur;
    const at = cur.pos;
    const stored = cur.u64le();
    cur.mark = cur.pos;
    const computed = this.crc.digest();
    this.state = STATE.DONE;
    if (stored === 0n || this.noChecksum) {
      this.emit({ kind: 'end', offset: this.eofOffset, checksum: null });
      return;
    }
    if (stored !== computed && this.verifyChecksum) {
      throw cur.error(
        `RDB checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
        cur.at(at),
      );
    }
    this.emit({ kind: 'end', offset: this.eofOffset, checksum: { stored, computed } });
  }
}
