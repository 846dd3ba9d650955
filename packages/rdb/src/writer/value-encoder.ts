/**
 * Turns one key's value events (what RdbParser emits between key-start and key-end) into the serialized
 * value body for a TARGET RDB version, streaming: body bytes go to the output as batches arrive.
 *
 * Encodings chosen (every target of that version loads them; the server converts to its in-memory
 * encoding on load, as rdbLoadObject does):
 *   string 0; list 1 (linked list), or 18 (quicklist 2, one listpack node) when target >= 10 and small;
 *   set 2, or 11 (intset) when every member is a canonical integer and there are at most 512;
 *   zset 5 (binary scores, target >= 8) else 3 (string scores); hash 4, or 24 (field TTLs, target 12..79);
 *   stream 15 (target 9) / 19 (10) / 21 (>= 11); module 7 (raw bytes as captured).
 *
 * Element counts: types 1/2/3/4/5/24 write the element count before the elements. The count is known when
 * the caller passes `count`, or when key-start.length came from a source whose format states the element
 * count (source types 1, 2, 3, 4, 5, 22, 24). Otherwise encoded elements are held in memory (as RDB bytes)
 * until the key ends, up to `maxBufferedBytes`, past which encoding fails with an RdbError.
 * Streams are always held until the key ends (the listpack and group counts come first), same limit.
 *
 * Empty lists, sets, zsets and hashes (which Redis cannot hold) produce nothing: the result says `empty`.
 *
 * Hash field TTLs: for targets below 12 (and Valkey 9, whose layout differs) a field TTL cannot be
 * represented; such fields are written without it and counted in `droppedFieldTtls`.
 * With type 24 and a streamed (not fully held) hash, the stored min-expire is 0: rdbLoadObject only uses
 * it as the base of the relative field TTLs.
 */
import { QUICKLIST_NODE_CONTAINER, RDB_TYPE } from '../constants.js';
import { encodeIntset, encodeListpack } from '../encodings/index.js';
import { RdbError } from '../errors.js';
import type { HashEntry, KeyHeader, RdbValueEvent, ZsetEntry } from '../types.js';
import { isForeignRdbVersion, isValkeyRdbVersion } from '../versions.js';
import { ChunkWriter } from './serialize.js';
import { fitsListpackNode, intsetValues, minFieldExpire } from './compact.js';
import { StreamBodyEncoder } from './stream-encoder.js';

/** The value events of one key (between key-start and key-end): the model's RdbValueEvent. */
export type ValueEvent = RdbValueEvent;

export interface ValueOutput {
  /** Called once per key, before any body byte, with the type id to write; returns where the body goes. */
  begin(rdbType: number): ChunkWriter;
}

export interface ValueEncoderOptions {
  targetRdbVersion: number;
  /** rdbcompression (default true). */
  compress?: boolean;
  /** Encoded bytes held while a count is unknown, and for streams (default 512 MiB). */
  maxBufferedBytes?: number;
}

export interface KeyEncodeOptions {
  /** The element count, when the caller knows it (lets a large value stream without being held). */
  count?: number;
  /** Use the field-TTL hash layout (24) from the start (default: when the source type was 22..25). */
  hashFieldTtls?: boolean;
}

export interface ValueEncodeResult {
  rdbType: number;
  /** Elements written (list items, members, entries, fields; 1 for strings and modules). */
  elements: number;
  /** Hash fields written without their TTL because the target cannot hold field TTLs. */
  droppedFieldTtls: number;
  /** An empty list / set / zset / hash: nothing was written (begin() was not called; rdbType is -1). */
  empty: boolean;
}

/** Source types whose RDB layout states the element count up front (so key-start.length is one). */
const COUNTED_SOURCE_TYPES = new Set<number>([
  RDB_TYPE.LIST,
  RDB_TYPE.SET,
  RDB_TYPE.ZSET,
  RDB_TYPE.HASH,
  RDB_TYPE.ZSET_2,
  RDB_TYPE.HASH_METADATA_PRE_GA,
  RDB_TYPE.HASH_METADATA,
]);
const HFE_SOURCE_TYPES = new Set<number>([
  RDB_TYPE.HASH_METADATA_PRE_GA,
  RDB_TYPE.HASH_LISTPACK_EX_PRE_GA,
  RDB_TYPE.HASH_METADATA,
  RDB_TYPE.HASH_LISTPACK_EX,
]);

/** Values up to these sizes are held whole, so a compact encoding can be picked at the end. */
const SMALL_MAX_ELEMENTS = 512;
const SMALL_MAX_BYTES = 64 * 1024;

type Phase = 'idle' | 'small' | 'direct' | 'buffer' | 'done';

/** Why `type` cannot be written for the target at all (null: it can). Check before starting a key. */
export function unsupportedReason(
  header: Pick<KeyHeader, 'type' | 'rdbType'>,
  targetRdbVersion: number,
): string | null {
  if (header.type === 'stream' && targetRdbVersion < 9) return `streams need RDB 9+, target is RDB ${targetRdbVersion}`;
  if (header.type === 'module') {
    if (header.rdbType === RDB_TYPE.MODULE_PRE_GA)
      return 'pre-GA module values (type 6) are not loadable by any release';
    if (targetRdbVersion < 8) return `module values need RDB 8+, target is RDB ${targetRdbVersion}`;
  }
  return null;
}

/** Can the target hold hash field TTLs in the Redis layouts (24/25)? */
export function targetHoldsFieldTtls(targetRdbVersion: number): boolean {
  return isForeignRdbVersion(targetRdbVersion) && !isValkeyRdbVersion(targetRdbVersion);
}

export class ValueEncoder {
  private readonly target: number;
  private readonly compress: boolean;
  private readonly maxBuffered: number;

  private phase: Phase = 'idle';
  private header: KeyHeader | null = null;
  private out: ValueOutput | null = null;
  private count: number | null = null;
  private forceHfe = false;
  private rdbType = -1;
  private elements = 0;
  private droppedFieldTtls = 0;
  private hfeLayout = false;
  /** Raw elements while the value is small. */
  private held: (Buffer | ZsetEntry | HashEntry)[] = [];
  private heldBytes = 0;
  private strings: Buffer[] = [];
  /** Where elements are written in 'direct' / 'buffer' phases. */
  private w: ChunkWriter | null = null;
  private buffered: Buffer[] = [];
  private stream: StreamBodyEncoder | null = null;
  private moduleRaw: Buffer | null = null;

  constructor(opts: ValueEncoderOptions) {
    this.target = opts.targetRdbVersion;
    this.compress = opts.compress ?? true;
    this.maxBuffered = opts.maxBufferedBytes ?? 512 * 1024 * 1024;
  }

  /**
   * key-start: `length` is key-start.length. Throws RdbError when the type cannot be written for the target.
   * A key left unfinished (after an error) is dropped: one encoder can be reused for every key.
   */
  start(header: KeyHeader, out: ValueOutput, length?: number, opts: KeyEncodeOptions = {}): void {
    const why = unsupportedReason(header, this.target);
    this.header = header;
    if (why) throw this.fail(why);
    this.out = out;
    this.count = opts.count ?? (length !== undefined && COUNTED_SOURCE_TYPES.has(header.rdbType) ? length : null);
    this.forceHfe = opts.hashFieldTtls ?? HFE_SOURCE_TYPES.has(header.rdbType);
    this.rdbType = -1;
    this.elements = 0;
    this.droppedFieldTtls = 0;
    this.hfeLayout = false;
    this.held = [];
    this.heldBytes = 0;
    this.strings = [];
    this.w = null;
    this.buffered = [];
    this.moduleRaw = null;
    this.stream =
      header.type === 'stream'
        ? new StreamBodyEncoder(this.target, this.compress, this.maxBuffered, (m) => this.fail(m))
        : null;
    this.phase = 'small';
  }

  /** Drops the current key (after an error): the encoder is ready for the next start(). */
  abort(): void {
    this.phase = 'idle';
    this.held = [];
    this.buffered = [];
    this.strings = [];
    this.stream = null;
    this.w = null;
    this.out = null;
  }

  /** One value event of the current key. */
  add(ev: ValueEvent): void {
    if (this.phase === 'idle' || this.phase === 'done') throw this.fail(`${ev.kind} outside a key`);
    const type = this.header!.type;
    switch (ev.kind) {
      case 'string':
        this.expect(type, 'string', ev.kind);
        this.strings.push(ev.value);
        return;
      case 'list-items':
        this.expect(type, 'list', ev.kind);
        for (const item of ev.items) this.element(item, item.length);
        return;
      case 'set-members':
        this.expect(type, 'set', ev.kind);
        for (const m of ev.members) this.element(m, m.length);
        return;
      case 'zset-entries':
        this.expect(type, 'zset', ev.kind);
        for (const e of ev.entries) this.element(e, e.member.length + 8);
        return;
      case 'hash-entries':
        this.expect(type, 'hash', ev.kind);
        for (const e of ev.entries) this.element(e, e.field.length + e.value.length);
        return;
      case 'stream-entries':
        this.expect(type, 'stream', ev.kind);
        this.stream!.entries(ev.entries);
        return;
      case 'stream-meta':
        this.expect(type, 'stream', ev.kind);
        this.stream!.meta(ev.meta);
        return;
      case 'stream-group':
        this.expect(type, 'stream', ev.kind);
        this.stream!.group(ev.group);
        return;
      case 'module':
        this.expect(type, 'module', ev.kind);
        if (this.moduleRaw) throw this.fail('more than one module value in a key');
        this.moduleRaw = ev.value.raw;
        return;
    }
  }

  /** key-end: writes whatever is still held and returns what was written. */
  finish(): ValueEncodeResult {
    if (this.phase === 'idle' || this.phase === 'done') throw this.fail('finish() outside a key');
    const header = this.header!;
    switch (header.type) {
      case 'string': {
        const value = this.strings.length === 1 ? this.strings[0]! : Buffer.concat(this.strings);
        this.begin(RDB_TYPE.STRING).string(value);
        this.elements = 1;
        break;
      }
      case 'module': {
        if (!this.moduleRaw) throw this.fail('module key without a module value');
        this.begin(header.rdbType === RDB_TYPE.MODULE_PRE_GA ? header.rdbType : RDB_TYPE.MODULE_2).bytes(
          this.moduleRaw,
        );
        this.elements = 1;
        break;
      }
      case 'stream':
        this.elements = this.stream!.finish((t) => this.begin(t));
        break;
      default:
        this.finishCollection();
    }
    this.phase = 'done';
    const result = {
      rdbType: this.rdbType,
      elements: this.elements,
      droppedFieldTtls: this.droppedFieldTtls,
      empty: this.rdbType === -1,
    };
    this.held = [];
    this.buffered = [];
    this.stream = null;
    this.w = null;
    this.out = null;
    return result;
  }

  private expect(actual: string, wanted: string, kind: string): void {
    if (actual !== wanted) throw this.fail(`${kind} event in a ${actual} key`);
  }

  private fail(message: string): RdbError {
    return new RdbError(`cannot encode value: ${message}`, this.header?.offset ?? 0, this.header?.key);
  }

  private begin(rdbType: number): ChunkWriter {
    this.rdbType = rdbType;
    return this.out!.begin(rdbType);
  }

  private element(e: Buffer | ZsetEntry | HashEntry, size: number): void {
    if (this.phase === 'small') {
      this.held.push(e);
      this.heldBytes += size;
      if (this.held.length > SMALL_MAX_ELEMENTS || this.heldBytes > SMALL_MAX_BYTES) this.leaveSmall();
      return;
    }
    this.writeElement(this.w!, e);
    if (this.phase === 'buffer' && this.w!.written > this.maxBuffered) {
      throw this.fail(
        `element count unknown and more than ${this.maxBuffered} bytes held; pass the count, or use commands`,
      );
    }
  }

  /** The value outgrew 'small': start writing elements out (count known) or into the hold buffer. */
  private leaveSmall(): void {
    const type = this.header!.type;
    this.hfeLayout = type === 'hash' && this.wantsHfeLayout();
    const held = this.held;
    this.held = [];
    if (this.count !== null) {
      const w = this.begin(this.genericType());
      this.writePrefix(w, this.count, 0);
      this.w = w;
      this.phase = 'direct';
    } else {
      this.w = new ChunkWriter((c) => this.buffered.push(c), 64 * 1024, this.compress);
      this.phase = 'buffer';
    }
    for (const e of held) this.writeElement(this.w, e);
  }

  private finishCollection(): void {
    if (this.phase === 'small') return this.finishSmall();
    if (this.phase === 'direct') {
      if (this.elements !== this.count) {
        throw this.fail(`the element count said ${this.count} but ${this.elements} elements arrived`);
      }
      return;
    }
    // 'buffer': the count is known now.
    this.w!.flush();
    const w = this.begin(this.genericType());
    this.writePrefix(w, this.elements, 0);
    for (const c of this.buffered) w.bytes(c);
  }

  private finishSmall(): void {
    const header = this.header!;
    const held = this.held;
    if (this.count !== null && this.count !== held.length) {
      throw this.fail(`the element count said ${this.count} but ${held.length} elements arrived`);
    }
    // An empty collection cannot exist in Redis (rdbLoadObject drops it, RESTORE refuses it): write nothing.
    if (held.length === 0) return;
    if (header.type === 'list' && this.target >= 10 && fitsListpackNode(held as Buffer[])) {
      const w = this.begin(RDB_TYPE.LIST_QUICKLIST_2);
      w.length(1);
      w.length(QUICKLIST_NODE_CONTAINER.PACKED);
      w.string(encodeListpack(held as Buffer[]));
      this.elements = held.length;
      return;
    }
    if (header.type === 'set') {
      const ints = intsetValues(held as Buffer[]);
      if (ints) {
        this.begin(RDB_TYPE.SET_INTSET).string(encodeIntset(ints));
        this.elements = held.length;
        return;
      }
    }
    let minExpire = 0;
    if (header.type === 'hash') {
      this.hfeLayout = this.wantsHfeLayout();
      if (this.hfeLayout) minExpire = minFieldExpire(held as HashEntry[]);
    }
    const w = this.begin(this.genericType());
    this.writePrefix(w, held.length, minExpire);
    for (const e of held) this.writeElement(w, e, minExpire);
  }

  private wantsHfeLayout(): boolean {
    if (!targetHoldsFieldTtls(this.target)) return false;
    if (this.forceHfe) return true;
    for (const e of this.held) if ((e as HashEntry).expireAtMs != null) return true;
    return false;
  }

  private genericType(): number {
    switch (this.header!.type) {
      case 'list':
        return RDB_TYPE.LIST;
      case 'set':
        return RDB_TYPE.SET;
      case 'zset':
        return this.target >= 8 ? RDB_TYPE.ZSET_2 : RDB_TYPE.ZSET;
      case 'hash':
        return this.hfeLayout ? RDB_TYPE.HASH_METADATA : RDB_TYPE.HASH;
      default:
        throw this.fail(`no collection encoding for ${this.header!.type}`);
    }
  }

  private writePrefix(w: ChunkWriter, count: number, minExpire: number): void {
    if (this.rdbType === RDB_TYPE.HASH_METADATA) w.millisecondTime(minExpire);
    w.length(count);
  }

  private writeElement(w: ChunkWriter, e: Buffer | ZsetEntry | HashEntry, minExpire = 0): void {
    this.elements++;
    if (Buffer.isBuffer(e)) return w.string(e);
    if ('member' in e) {
      w.string(e.member);
      if (this.target >= 8) w.binaryDouble(e.score);
      else w.stringDouble(e.score);
      return;
    }
    const ttl = e.expireAtMs;
    if (this.hfeLayout) {
      w.length(ttl == null ? 0 : ttl - minExpire + 1);
    } else if (ttl != null) {
      this.droppedFieldTtls++;
    }
    w.string(e.field);
    w.string(e.value);
  }
}
