/**
 * Writes a whole RDB file as a stream of chunks (rdb.c rdbSaveRio): header, AUX fields, FUNCTION2,
 * then per database SELECTDB (+ RESIZEDB), per key [EXPIRETIME_MS] [IDLE | FREQ] <type> <key> <value>,
 * and finally EOF + CRC64 of everything before it (running, never over a whole file in memory).
 *
 * Keys come either as parser events (key-start, value events, key-end: re-encoded for the target version
 * by ValueEncoder) or as a raw value body + type byte (a DUMP payload without its footer, as
 * `shake dump --mode scan` assembles SCAN + DUMP results into a file).
 *
 * A key whose value fails to encode before any of it was written (held without a count past the limit)
 * is skipped and counted; a failure after its bytes began is thrown (the output is no longer valid).
 * Opcodes the target cannot read are left out: AUX and RESIZEDB need RDB 7, IDLE / FREQ RDB 9, FUNCTION2
 * RDB 10. Anything not written (a function for an old target, a module AUX, a value type the target
 * cannot load) is counted in `stats.skipped` by reason. The writer is synchronous: `output` receives each
 * chunk as it is ready; a caller writing to a stream applies backpressure between calls.
 */
import { RDB_OPCODE } from '../constants.js';
import { Crc64 } from '../encodings/index.js';
import { RdbError } from '../errors.js';
import type { KeyHeader, RdbEvent } from '../types.js';
import { isTypeLoadableBy, isValkeyRdbVersion, rdbHeaderFor } from '../versions.js';
import { splitDumpPayload } from '../dump-payload.js';
import { ChunkWriter } from './serialize.js';
import {
  ValueEncoder,
  unsupportedReason,
  type KeyEncodeOptions,
  type ValueEncodeResult,
  type ValueEvent,
} from './value-encoder.js';

export interface RdbWriterAux {
  /** redis-ver (default: a release that writes the target version, e.g. "7.0.15" for RDB 10). */
  redisVer?: string;
  /** valkey-ver, written for Valkey targets (RDB 80+; default "9.0.0"). */
  valkeyVer?: string;
  redisBits?: number;
  /** ctime in Unix seconds (default: now). */
  ctime?: number;
  usedMem?: number;
  /** aof-base (RDB 10+ writes "0" unless this is an AOF base file). */
  aofBase?: boolean;
  /** More AUX fields, written after the standard ones. */
  extra?: [Buffer | string, Buffer | string][];
}

export interface RdbWriterOptions {
  /** The RDB version to write (the target server's RDB_VERSION). */
  rdbVersion: number;
  output: (chunk: Buffer) => void;
  /** rdbcompression (default true). */
  compress?: boolean;
  /** Staging buffer size: small records are gathered into chunks this big (default 64 KiB). */
  chunkSize?: number;
  /** See ValueEncoderOptions.maxBufferedBytes. */
  maxBufferedBytes?: number;
  aux?: RdbWriterAux;
  /**
   * AUX events from a parsed source: 'none' drops them, 'safe' (default) keeps those that describe
   * the data rather than the writing server (drops redis-ver, valkey-ver, redis-bits, ctime, used-mem,
   * aof-base, aof-preamble and repl-*), 'all' keeps them all.
   */
  sourceAux?: 'none' | 'safe' | 'all';
}

export interface RdbWriterStats {
  keys: number;
  /** Records not written, by reason. */
  skipped: Record<string, number>;
  /** Hash fields written without their TTL (target below RDB 12). */
  droppedFieldTtls: number;
  /** Bytes handed to `output`. */
  bytes: number;
}

/** A key whose value is already serialized (DUMP payload body) for `rdbType`. */
export interface RawKey {
  db: number;
  key: Buffer;
  rdbType: number;
  body: Buffer | readonly Buffer[];
  expireAtMs?: number | null;
  idle?: number;
  freq?: number;
  /** RDB version the body was written with (decides what type ids 22..25 mean; default: the target). */
  sourceRdbVersion?: number;
}

const DEFAULT_REDIS_VER: Record<number, string> = {
  6: '2.8.24',
  7: '3.2.13',
  8: '4.0.14',
  9: '6.2.16',
  10: '7.0.15',
  11: '7.2.6',
  12: '7.4.1',
};
const WRITER_OWNED_AUX = new Set([
  'redis-ver',
  'valkey-ver',
  'redis-bits',
  'ctime',
  'used-mem',
  'aof-base',
  'aof-preamble',
]);

interface KeyMeta {
  db: number;
  key: Buffer;
  expireAtMs?: number | null;
  idle?: number;
  freq?: number;
}

export class RdbWriter {
  readonly stats: RdbWriterStats = { keys: 0, skipped: {}, droppedFieldTtls: 0, bytes: 0 };
  private readonly version: number;
  private readonly w: ChunkWriter;
  private readonly crc = new Crc64();
  private readonly encoder: ValueEncoder;
  private readonly opts: RdbWriterOptions;
  private started = false;
  private ended = false;
  private db = -1;
  /** The key being written from events; null between keys. */
  private current: KeyHeader | null = null;
  /** A key-start the target cannot take: its value events are dropped until key-end. */
  private skipping = false;
  /** Whether the current key's record has started in the output. */
  private begun = false;

  constructor(opts: RdbWriterOptions) {
    this.opts = opts;
    this.version = opts.rdbVersion;
    this.w = new ChunkWriter(
      (chunk) => {
        this.crc.update(chunk);
        this.stats.bytes += chunk.length;
        opts.output(chunk);
      },
      opts.chunkSize ?? 64 * 1024,
      opts.compress ?? true,
    );
    this.encoder = new ValueEncoder({
      targetRdbVersion: opts.rdbVersion,
      compress: opts.compress,
      maxBufferedBytes: opts.maxBufferedBytes,
    });
  }

  /** Writes the header and the writer's own AUX fields (called by the first record if not called). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.w.bytes(rdbHeaderFor(this.version));
    if (this.version < 7) return;
    const a = this.opts.aux ?? {};
    if (isValkeyRdbVersion(this.version)) this.aux('valkey-ver', a.valkeyVer ?? '9.0.0');
    this.aux(
      'redis-ver',
      a.redisVer ?? (isValkeyRdbVersion(this.version) ? '7.2.4' : (DEFAULT_REDIS_VER[this.version] ?? '7.4.1')),
    );
    this.aux('redis-bits', String(a.redisBits ?? 64));
    this.aux('ctime', String(a.ctime ?? Math.floor(Date.now() / 1000)));
    this.aux('used-mem', String(a.usedMem ?? 0));
    if (this.version >= 10) this.aux('aof-base', a.aofBase ? '1' : '0');
    for (const [k, v] of a.extra ?? []) this.aux(k, v);
  }

  /** One AUX field (RDB 7+; skipped and counted for older targets). */
  aux(key: Buffer | string, value: Buffer | string): void {
    this.start();
    if (this.version < 7) return this.skip('aux: target below RDB 7');
    this.w.byte(RDB_OPCODE.AUX);
    this.w.string(typeof key === 'string' ? Buffer.from(key) : key);
    this.w.string(typeof value === 'string' ? Buffer.from(value) : value);
  }

  /** FUNCTION2: one library's source, as FUNCTION LOAD takes it (RDB 10+). */
  functionLibrary(code: Buffer | string): void {
    this.start();
    if (this.version < 10) return this.skip('function: target below RDB 10');
    this.w.byte(RDB_OPCODE.FUNCTION2);
    this.w.string(typeof code === 'string' ? Buffer.from(code) : code);
  }

  selectDb(db: number): void {
    this.start();
    this.w.byte(RDB_OPCODE.SELECTDB);
    this.w.length(db);
    this.db = db;
  }

  /** RESIZEDB hint for the current database (RDB 7+; ignored for older targets). */
  resizeDb(dbSize: number, expiresSize: number): void {
    this.start();
    if (this.version < 7) return;
    this.w.byte(RDB_OPCODE.RESIZEDB);
    this.w.length(dbSize);
    this.w.length(expiresSize);
  }

  /** key-start: the value follows through value() and ends with endKey(). Returns false when skipped. */
  beginKey(header: KeyHeader, length?: number, opts?: KeyEncodeOptions): boolean {
    this.start();
    if (this.current || this.skipping)
      throw new RdbError('writer: key started inside another key', header.offset, header.key);
    const why = unsupportedReason(header, this.version);
    if (why) {
      this.skipping = true;
      this.skip(`${header.type}: ${why}`);
      return false;
    }
    this.current = header;
    this.begun = false;
    this.encoder.start(
      header,
      {
        begin: (rdbType) => {
          this.begun = true;
          return this.keyPrefix(header, rdbType);
        },
      },
      length,
      opts,
    );
    return true;
  }

  value(ev: ValueEvent): void {
    if (this.skipping) return;
    if (!this.current) throw new RdbError(`writer: ${ev.kind} outside a key`, 0);
    try {
      this.encoder.add(ev);
    } catch (e) {
      this.recover(e);
    }
  }

  /** key-end. Returns what was written (`empty`: nothing, counted as skipped), or null when the key was skipped. */
  endKey(): ValueEncodeResult | null {
    if (this.skipping) {
      this.skipping = false;
      return null;
    }
    if (!this.current) throw new RdbError('writer: key-end outside a key', 0);
    let result: ValueEncodeResult;
    try {
      result = this.encoder.finish();
    } catch (e) {
      this.recover(e);
      this.skipping = false;
      return null;
    }
    this.current = null;
    if (result.empty) {
      this.skip('empty value');
      return result;
    }
    this.stats.keys++;
    this.stats.droppedFieldTtls += result.droppedFieldTtls;
    return result;
  }

  /** A key from an already serialized value body (e.g. a DUMP payload without its footer). */
  rawKey(k: RawKey): boolean {
    this.start();
    if (this.current || this.skipping) throw new RdbError('writer: raw key inside another key', 0, k.key);
    if (!isTypeLoadableBy(k.rdbType, k.sourceRdbVersion ?? this.version, this.version)) {
      this.skip(`raw value type ${k.rdbType}: not loadable by RDB ${this.version}`);
      return false;
    }
    this.keyPrefix(k, k.rdbType);
    for (const c of Buffer.isBuffer(k.body) ? [k.body] : k.body) this.w.bytes(c);
    this.stats.keys++;
    return true;
  }

  /** A key from a DUMP payload exactly as DUMP returned it (CRC verified, footer stripped). */
  dumpPayloadKey(k: Omit<RawKey, 'rdbType' | 'body' | 'sourceRdbVersion'> & { payload: Buffer }): boolean {
    const parts = splitDumpPayload(k.payload);
    return this.rawKey({ ...k, rdbType: parts.rdbType, body: parts.body, sourceRdbVersion: parts.rdbVersion });
  }

  /** Feeds one parser event (header and source AUX per `sourceAux`; 'end' finishes the file). */
  write(ev: RdbEvent): void {
    switch (ev.kind) {
      case 'header':
        return this.start();
      case 'aux':
        return this.sourceAux(ev.key, ev.value);
      case 'select-db':
        if (ev.db !== this.db) this.selectDb(ev.db);
        return;
      case 'resize-db':
        return this.resizeDb(ev.dbSize, ev.expiresSize);
      case 'slot-info':
        return;
      case 'function':
        return this.functionLibrary(ev.code);
      case 'function-pre-ga':
        return this.skip('function-pre-ga: pre-GA function format');
      case 'module-aux':
        return this.skip('module-aux: module auxiliary data');
      case 'key-start':
        this.beginKey(ev.header, ev.length);
        return;
      case 'key-end':
        this.endKey();
        return;
      case 'end':
        return this.end();
      default:
        return this.value(ev);
    }
  }

  /** EOF + CRC64 (RDB 5+), then flushes. Nothing can be written after. */
  end(): void {
    if (this.ended) return;
    this.start();
    if (this.current || this.skipping) throw new RdbError('writer: end inside a key', 0);
    this.w.byte(RDB_OPCODE.EOF);
    this.w.flush();
    if (this.version >= 5) {
      const sum = this.crc.digestLE();
      this.stats.bytes += sum.length;
      this.opts.output(sum);
    }
    this.ended = true;
  }

  private sourceAux(key: Buffer, value: Buffer): void {
    const mode = this.opts.sourceAux ?? 'safe';
    if (mode === 'none') return;
    const name = key.toString('latin1');
    if (mode === 'safe' && (WRITER_OWNED_AUX.has(name) || name.startsWith('repl-'))) return;
    this.aux(key, value);
  }

  /** [SELECTDB] [EXPIRETIME_MS] [IDLE] [FREQ] <type> <key>; returns the writer for the value body. */
  private keyPrefix(k: KeyMeta, rdbType: number): ChunkWriter {
    const w = this.w;
    if (k.db !== this.db) this.selectDb(k.db);
    if (k.expireAtMs != null) {
      if (this.version >= 3) {
        w.byte(RDB_OPCODE.EXPIRETIME_MS);
        w.millisecondTime(k.expireAtMs);
      } else {
        w.byte(RDB_OPCODE.EXPIRETIME);
        w.bytes(int32LE(Math.floor(k.expireAtMs / 1000)));
      }
    }
    if (this.version >= 9) {
      if (k.idle !== undefined) {
        w.byte(RDB_OPCODE.IDLE);
        w.length(k.idle);
      }
      if (k.freq !== undefined) {
        w.byte(RDB_OPCODE.FREQ);
        w.byte(k.freq & 0xff);
      }
    }
    w.byte(rdbType);
    w.string(k.key);
    return w;
  }

  /**
   * An encoding error inside a key: when nothing of the key is in the output yet (its value was still
   * held, e.g. too big to hold without a count), the key is skipped and counted; otherwise the output is
   * already inconsistent and the error propagates.
   */
  private recover(e: unknown): void {
    if (!(e instanceof RdbError) || this.begun || !this.current) throw e;
    this.skip(`${this.current.type}: ${e.message}`);
    this.encoder.abort();
    this.current = null;
    this.skipping = true;
  }

  private skip(reason: string): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
  }
}

function int32LE(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32LE(v, 0);
  return b;
}
