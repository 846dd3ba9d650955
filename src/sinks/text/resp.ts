/**
 * decode --format resp: the commands that rebuild the data, for `redis-cli --pipe`. SELECT on each db
 * change; DEL before a collection is rebuilt; collections in commands of at most `batch` elements;
 * streams with explicit ids, XSETID, XGROUP CREATE / CREATECONSUMER and XCLAIM for the PEL; PEXPIREAT for
 * key TTLs and HPEXPIREAT for hash-field TTLs; FUNCTION LOAD for libraries; module values as RESTORE.
 * The per-type value -> commands rewrite is src/rewrite's (the one restore uses), for a target that has
 * every feature (a recent Redis). Every command is described in docs/decode.md.
 */
import { buildDumpPayloadBuffer, type KeyHeader, type ModuleValue } from '@shake/rdb';
import type { Entry, EntryBatch, Sink } from '../../core/entry.js';
import { featuresFor, type TargetFeatures } from '../../rewrite/features.js';
import {
  DEFAULT_REWRITE_LIMITS,
  KeyRewriter,
  type RewriteLimits,
  type RewriteReport,
} from '../../rewrite/key-rewriter.js';
import type { TextOutput } from './output.js';
import { RespWriter } from './resp-writer.js';

export interface RespSinkOptions {
  /** Most elements per RPUSH/SADD/ZADD/HSET (default 128). */
  batch?: number;
  /**
   * The Redis version (X.Y) that will run the commands: only commands it has. Hash field TTLs below 7.4 are
   * dropped (the fields are written), function libraries below 7.0 and stream keys below 5.0 are not written;
   * each counted (conversionNotes). Default: a recent Redis (HPEXPIREAT, XGROUP CREATECONSUMER, XSETID ...).
   */
  targetVersion?: string;
}

/** The output is for a recent Redis: HPEXPIREAT, XGROUP CREATECONSUMER, XSETID ENTRIESADDED, ... */
const EVERYTHING = featuresFor([255, 0, 0], 'standalone');

/** What the output could not carry for the target version. */
interface Dropped {
  fieldTtls: number;
  fieldTtlKeys: number;
  functions: number;
  streams: number;
  streamDetails: number;
}

export class RespSink implements Sink {
  private readonly w = new RespWriter();
  private readonly limits: RewriteLimits;
  private readonly emit = (argv: (string | Buffer)[]): void => {
    this.w.command(...argv);
  };
  private db = Number.NaN;
  private rdbVersion = 0;
  private key: KeyHeader | null = null;
  /** The current key's rewriter; null for a module value (RESTORE) or outside a key. */
  private rewriter: KeyRewriter | null = null;
  private readonly features: TargetFeatures;
  private readonly dropped: Dropped = { fieldTtls: 0, fieldTtlKeys: 0, functions: 0, streams: 0, streamDetails: 0 };
  /** The current key is one the target version cannot hold: its events are passed over. */
  private skipping = false;

  constructor(
    private readonly out: TextOutput,
    private readonly opts: RespSinkOptions = {},
  ) {
    this.features = opts.targetVersion ? featuresFor(opts.targetVersion, 'standalone') : EVERYTHING;
    // Only the element count splits commands (no byte cap, strings whole), as --resp-batch documents.
    const batchSize = Math.max(1, opts.batch ?? 128);
    this.limits = {
      ...DEFAULT_REWRITE_LIMITS,
      maxElementsPerCommand: batchSize,
      maxBytesPerCommand: Infinity,
      maxStringPiece: Infinity,
    };
  }

  get commands(): number {
    return this.w.commands;
  }

  write(batch: EntryBatch): Promise<void> | undefined {
    for (const e of batch) this.event(e);
    return this.w.buf.length > 0 ? this.out.write(this.w.buf.take()) : undefined;
  }

  private event(e: Entry): void {
    const w = this.w;
    const key = this.key?.key;
    switch (e.kind) {
      case 'header':
        this.rdbVersion = e.version;
        return;
      case 'function':
      case 'function-pre-ga':
        if (this.features.functions) w.command('FUNCTION', 'LOAD', 'REPLACE', e.code);
        else this.dropped.functions++;
        return;
      case 'key-start':
        this.keyStart(e.header);
        return;
      case 'key-end':
        if (this.rewriter) this.count(this.rewriter.end());
        else if (key && !this.skipping && e.header.expireAtMs !== null) {
          w.command('PEXPIREAT', key, String(e.header.expireAtMs));
        }
        this.key = null;
        this.rewriter = null;
        this.skipping = false;
        return;
    }
    if (!key || this.skipping) return;
    switch (e.kind) {
      case 'module':
        w.command('RESTORE', key, '0', this.modulePayload(e.value), 'REPLACE');
        return;
      case 'string':
      case 'list-items':
      case 'set-members':
      case 'zset-entries':
      case 'hash-entries':
      case 'stream-entries':
      case 'stream-meta':
      case 'stream-group':
        this.rewriter?.push(e);
        return;
    }
  }

  private count(r: RewriteReport): void {
    this.dropped.fieldTtls += r.droppedFieldTtls;
    if (r.droppedFieldTtls > 0) this.dropped.fieldTtlKeys++;
    this.dropped.streamDetails += r.lostStreamDetails;
  }

  /** Keys not written at all (a type the target version lacks). */
  get keysNotWritten(): number {
    return this.dropped.streams;
  }

  /** What the output could not carry for --target-version (one line each; [] when nothing was lost). */
  conversionNotes(): string[] {
    const d = this.dropped;
    const v = this.opts.targetVersion;
    const lines: string[] = [];
    if (d.streams > 0) lines.push(`NOT WRITTEN: ${d.streams} stream key(s): Redis ${v} has no streams (5.0+)`);
    if (d.functions > 0) lines.push(`NOT WRITTEN: ${d.functions} function library(ies): Redis ${v} has none (7.0+)`);
    if (d.fieldTtls > 0) {
      lines.push(
        `WARNING: ${d.fieldTtls} hash field TTL(s) in ${d.fieldTtlKeys} key(s) dropped: ` +
          `Redis ${v ?? ''} has no HPEXPIREAT (7.4+); the fields are written without TTL`,
      );
    }
    if (d.streamDetails > 0) {
      lines.push(`WARNING: ${d.streamDetails} stream detail(s) no command can set here (see docs/decode.md)`);
    }
    return lines;
  }

  private keyStart(h: KeyHeader): void {
    this.key = h;
    if (h.type === 'stream' && !this.features.streams) {
      this.dropped.streams++;
      this.skipping = true;
      this.rewriter = null;
      return;
    }
    if (h.db >= 0 && h.db !== this.db) {
      this.w.command('SELECT', String(h.db));
      this.db = h.db;
    }
    // SET and RESTORE ... REPLACE overwrite; collections are rebuilt from scratch.
    if (h.type !== 'string' && h.type !== 'module') this.w.command('DEL', h.key);
    // Every field TTL is kept (nowMs -Infinity): the output may be replayed at any time; the server drops
    // fields whose HPEXPIREAT time has passed.
    this.rewriter = h.type === 'module' ? null : new KeyRewriter(h, this.features, this.limits, this.emit, -Infinity);
  }

  /** A DUMP payload for RESTORE: the module value as the RDB holds it, stamped with the file's RDB version. */
  private modulePayload(m: ModuleValue): Buffer {
    return buildDumpPayloadBuffer(this.key?.rdbType ?? 7, m.raw, this.rdbVersion || 9);
  }

  async close(): Promise<void> {
    await this.out.end();
  }

  async abort(): Promise<void> {
    await this.out.end().catch(() => {});
  }
}
