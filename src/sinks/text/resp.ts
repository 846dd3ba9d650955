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
import { featuresFor } from '../../rewrite/features.js';
import { KeyRewriter, type RewriteLimits } from '../../rewrite/key-rewriter.js';
import type { TextOutput } from './output.js';
import { RespWriter } from './resp-writer.js';

export interface RespSinkOptions {
  /** Most elements per RPUSH/SADD/ZADD/HSET (default 128). */
  batch?: number;
}

/** The output is for a recent Redis: HPEXPIREAT, XGROUP CREATECONSUMER, XSETID ENTRIESADDED, ... */
const EVERYTHING = featuresFor([255, 0, 0], 'standalone');

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

  constructor(
    private readonly out: TextOutput,
    opts: RespSinkOptions = {},
  ) {
    // Only the element count splits commands (no byte cap, strings whole), as --resp-batch documents.
    const batchSize = Math.max(1, opts.batch ?? 128);
    this.limits = { maxElementsPerCommand: batchSize, maxBytesPerCommand: Infinity, maxStringPiece: Infinity };
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
        w.command('FUNCTION', 'LOAD', 'REPLACE', e.code);
        return;
      case 'function-pre-ga':
        w.command('FUNCTION', 'LOAD', 'REPLACE', e.code);
        return;
      case 'key-start':
        this.keyStart(e.header);
        return;
      case 'key-end':
        if (this.rewriter) this.rewriter.end();
        else if (key && e.header.expireAtMs !== null) w.command('PEXPIREAT', key, String(e.header.expireAtMs));
        this.key = null;
        this.rewriter = null;
        return;
    }
    if (!key) return;
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

  private keyStart(h: KeyHeader): void {
    this.key = h;
    if (h.db >= 0 && h.db !== this.db) {
      this.w.command('SELECT', String(h.db));
      this.db = h.db;
    }
    // SET and RESTORE ... REPLACE overwrite; collections are rebuilt from scratch.
    if (h.type !== 'string' && h.type !== 'module') this.w.command('DEL', h.key);
    // Every field TTL is kept (nowMs -Infinity): the output may be replayed at any time; the server drops
    // fields whose HPEXPIREAT time has passed.
    this.rewriter = h.type === 'module' ? null : new KeyRewriter(h, EVERYTHING, this.limits, this.emit, -Infinity);
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
