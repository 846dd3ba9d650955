/**
 * The Entry sink of `shake dump --mode scan`: header / aux / function / select-db / resize-db records and
 * keys become an RDB file (RdbWriter from @shake/rdb), written through RdbFileOutput (temporary file,
 * fsync, rename). Keys whose key-end carries `raw` (a DUMP body, as the scan source yields) are copied as
 * they are; other keys (parser events) are re-encoded by the writer.
 */
import { RdbWriter, type KeyHeader, type RdbEvent, type RdbWriterAux } from '@shake/rdb';
import type { Entry, EntryBatch, Sink } from '../core/entry.js';
import { RdbFileOutput, type RdbFileOutputOptions } from './rdb-file-output.js';

export { RdbFileOutput, type RdbFileOutputOptions } from './rdb-file-output.js';

export interface RdbFileSinkOptions extends RdbFileOutputOptions {
  /** RDB version to write when the source gives no header (default: the header's version). */
  rdbVersion?: number;
  compress?: boolean;
  /** When aborted before close(), close() drops the file instead of committing a partial dump. */
  signal?: AbortSignal;
}

/** What the sink wrote, once closed. */
export interface RdbFileSinkResult {
  path: string;
  bytes: number;
  keys: number;
  rdbVersion: number;
  /** Records the writer could not put in the file, by reason (e.g. a type the version cannot hold). */
  skipped: Record<string, number>;
  /** Hash fields written without their TTL (the version cannot hold field TTLs). */
  droppedFieldTtls: number;
}

const WRITER_AUX: Record<string, keyof RdbWriterAux> = {
  'redis-ver': 'redisVer',
  'valkey-ver': 'valkeyVer',
};

/**
 * Entry sink -> RDB file. Keys whose key-end carries `raw` (a DUMP body, as the scan source yields) are
 * copied as they are; other keys (parser events) are re-encoded by RdbWriter. The header's version is the
 * file's version; the source's AUX fields describing the server (redis-ver, redis-bits, ctime, used-mem)
 * are kept. Commands (CommandEntry) cannot go into an RDB file and are refused.
 */
export class RdbFileSink implements Sink {
  private writer: RdbWriter | null = null;
  private readonly preamble: RdbEvent[] = [];
  /** key-start waiting to learn whether the key comes raw (key-end.raw) or as value events. */
  private pendingKey: KeyHeader | null = null;
  private pendingLength: number | undefined;
  private ended = false;
  private version: number | null;
  result: RdbFileSinkResult | null = null;

  private constructor(
    private readonly out: RdbFileOutput,
    private readonly opts: RdbFileSinkOptions,
  ) {
    this.version = opts.rdbVersion ?? null;
  }

  static async open(path: string, opts: RdbFileSinkOptions = {}): Promise<RdbFileSink> {
    return new RdbFileSink(await RdbFileOutput.open(path, opts), opts);
  }

  get bytesWritten(): number {
    return this.out.bytesWritten;
  }

  async write(batch: EntryBatch): Promise<void> {
    for (const e of batch) this.entry(e);
    await this.out.drained();
  }

  private entry(e: Entry): void {
    if (e.kind === 'command') throw new Error('an RDB file cannot hold commands (command entry in a dump)');
    if (!this.writer) {
      if (e.kind === 'header') {
        this.version ??= e.version;
        return;
      }
      if (e.kind === 'aux') {
        this.preamble.push(e);
        return;
      }
      this.startWriter();
    }
    const w = this.writer!;
    switch (e.kind) {
      case 'header':
        return;
      case 'key-start':
        this.flushPendingKey();
        this.pendingKey = e.header;
        this.pendingLength = e.length;
        return;
      case 'key-end':
        if (this.pendingKey && e.raw) {
          const h = this.pendingKey;
          this.pendingKey = null;
          w.rawKey({
            db: h.db,
            key: h.key,
            rdbType: h.rdbType,
            body: e.raw,
            expireAtMs: h.expireAtMs,
            idle: h.idle,
            freq: h.freq,
            sourceRdbVersion: this.version ?? undefined,
          });
          return;
        }
        this.flushPendingKey();
        w.write(e);
        return;
      case 'end':
        this.flushPendingKey();
        w.end();
        this.ended = true;
        return;
      default:
        this.flushPendingKey();
        w.write(e);
    }
  }

  /** A key-start followed by value events: hand it to the writer as a parsed key. */
  private flushPendingKey(): void {
    const h = this.pendingKey;
    if (!h) return;
    this.pendingKey = null;
    this.writer!.beginKey(h, this.pendingLength);
  }

  private startWriter(): void {
    if (this.version === null) throw new Error('RDB file sink: no header before the first record');
    const aux: RdbWriterAux = { extra: [] };
    for (const ev of this.preamble) {
      if (ev.kind !== 'aux') continue;
      const name = ev.key.toString('latin1');
      const value = ev.value.toString('latin1');
      const field = WRITER_AUX[name];
      if (field === 'redisVer') aux.redisVer = value;
      else if (field === 'valkeyVer') aux.valkeyVer = value;
      else if (name === 'redis-bits') aux.redisBits = Number(value);
      else if (name === 'ctime') aux.ctime = Number(value);
      else if (name === 'used-mem') aux.usedMem = Number(value);
      else if (name === 'aof-base' || name === 'aof-preamble' || name.startsWith('repl-')) continue;
      else aux.extra!.push([ev.key, ev.value]);
    }
    this.writer = new RdbWriter({
      rdbVersion: this.version,
      compress: this.opts.compress,
      aux,
      output: (chunk) => {
        this.out.write(chunk);
      },
    });
    this.writer.start();
  }

  async close(): Promise<void> {
    if (this.opts.signal?.aborted) {
      await this.out.abort();
      return;
    }
    if (!this.writer) this.startWriter();
    if (!this.ended) {
      this.flushPendingKey();
      this.writer!.end();
      this.ended = true;
    }
    await this.out.commit();
    const w = this.writer!;
    this.result = {
      path: this.out.path,
      bytes: this.out.bytesWritten,
      keys: w.stats.keys,
      rdbVersion: this.version!,
      skipped: { ...w.stats.skipped },
      droppedFieldTtls: w.stats.droppedFieldTtls,
    };
  }

  async abort(): Promise<void> {
    await this.out.abort();
  }
}
