/**
 * One key's value events -> the plain commands that rebuild it (SET, RPUSH, SADD, ZADD, HSET, XADD, ...),
 * streaming: every value batch becomes commands at once, so a 10-million-field hash is never held whole.
 * The key's TTL (PEXPIREAT, absolute) and stream metadata go last, after the value exists.
 *
 * Not here: conflict handling (the sink sends DEL or checks EXISTS first) and module values, which only
 * RESTORE can carry (the strategy never routes them here).
 */
import type { HashEntry, KeyHeader, RdbEvent, ZsetEntry } from '@shake/rdb';
import type { TargetFeatures } from './features.js';
import { formatScore } from './format.js';
import { StreamRewriter } from './stream.js';

export type Argv = (string | Buffer)[];

export interface RewriteLimits {
  /** Elements (members, fields, items) per command. */
  maxElementsPerCommand: number;
  /** Payload bytes per collection command (small commands are cheaper to encode: one copy into a slab). */
  maxBytesPerCommand: number;
  /** A string bigger than this is sent as SET + APPEND pieces of this size. */
  maxStringPiece: number;
  /**
   * Stream entry bytes held until the stream's groups are known, so that pending entries whose message was
   * deleted can be recreated in order (src/rewrite/stream.ts); a bigger stream is written as it comes.
   */
  maxHeldStreamBytes: number;
}

export const DEFAULT_REWRITE_LIMITS: RewriteLimits = {
  maxElementsPerCommand: 512,
  maxBytesPerCommand: 12 * 1024,
  maxStringPiece: 1 << 20,
  maxHeldStreamBytes: 16 << 20,
};

/** What happened to one key, for the sink's summary. */
export interface RewriteReport {
  commands: number;
  /** Hash fields whose TTL the target cannot store (no HPEXPIREAT before 7.4): written without TTL. */
  droppedFieldTtls: number;
  /** Hash fields already expired at restore time: not written. */
  expiredFields: number;
  /** Stream details the target's commands cannot express (consumers without XGROUP CREATECONSUMER, ...). */
  lostStreamDetails: number;
}

export class RewriteUnsupportedError extends Error {
  override readonly name = 'RewriteUnsupportedError';
}

export class KeyRewriter {
  private readonly report: RewriteReport = { commands: 0, droppedFieldTtls: 0, expiredFields: 0, lostStreamDetails: 0 };
  private stream: StreamRewriter | null = null;

  constructor(
    private readonly header: KeyHeader,
    private readonly features: TargetFeatures,
    private readonly limits: RewriteLimits,
    private readonly out: (argv: Argv) => void,
    private readonly nowMs: number = Date.now(),
  ) {
    if (header.type === 'module') {
      throw new RewriteUnsupportedError('a module value can only be restored with RESTORE');
    }
    if (header.type === 'stream') {
      if (!features.streams) throw new RewriteUnsupportedError('the target has no streams (Redis < 5.0)');
      this.stream = new StreamRewriter(header.key, features, (argv) => this.emit(argv), limits.maxHeldStreamBytes);
    }
  }

  /** True once at least one command that creates the key was emitted. */
  get wroteValue(): boolean {
    return this.stream ? this.stream.created : this.report.commands > 0;
  }

  push(ev: RdbEvent): void {
    switch (ev.kind) {
      case 'string':
        this.writeString(ev.value);
        return;
      case 'list-items':
        this.writeElements('RPUSH', ev.items);
        return;
      case 'set-members':
        this.writeElements('SADD', ev.members);
        return;
      case 'zset-entries':
        this.writeZset(ev.entries);
        return;
      case 'hash-entries':
        this.writeHash(ev.entries);
        return;
      case 'stream-entries':
      case 'stream-meta':
      case 'stream-group':
        if (!this.stream) throw new RewriteUnsupportedError(`${ev.kind} event for a ${this.header.type} key`);
        this.stream.push(ev);
        return;
      case 'module':
        throw new RewriteUnsupportedError('a module value can only be restored with RESTORE');
      default:
        return;
    }
  }

  /** After the last value event: stream metadata, then the key's absolute TTL. */
  end(): RewriteReport {
    if (this.stream) {
      this.stream.end();
      this.report.lostStreamDetails += this.stream.lost;
    }
    const exp = this.header.expireAtMs;
    if (exp !== null && this.wroteValue) this.emit(['PEXPIREAT', this.header.key, String(exp)]);
    return this.report;
  }

  private emit(argv: Argv): void {
    this.report.commands++;
    this.out(argv);
  }

  private writeString(value: Buffer): void {
    const max = this.limits.maxStringPiece;
    if (value.length <= max) {
      this.emit(['SET', this.header.key, value]);
      return;
    }
    this.emit(['SET', this.header.key, value.subarray(0, max)]);
    for (let at = max; at < value.length; at += max) {
      this.emit(['APPEND', this.header.key, value.subarray(at, Math.min(at + max, value.length))]);
    }
  }

  private writeElements(cmd: string, items: Buffer[]): void {
    const { maxElementsPerCommand: maxN, maxBytesPerCommand: maxB } = this.limits;
    let argv: Argv = [cmd, this.header.key];
    let bytes = 0;
    for (const item of items) {
      argv.push(item);
      bytes += item.length;
      if (argv.length - 2 >= maxN || bytes >= maxB) {
        this.emit(argv);
        argv = [cmd, this.header.key];
        bytes = 0;
      }
    }
    if (argv.length > 2) this.emit(argv);
  }

  private writeZset(entries: ZsetEntry[]): void {
    const { maxElementsPerCommand: maxN, maxBytesPerCommand: maxB } = this.limits;
    let argv: Argv = ['ZADD', this.header.key];
    let bytes = 0;
    for (const e of entries) {
      argv.push(formatScore(e.score), e.member);
      bytes += e.member.length + 24;
      if ((argv.length - 2) / 2 >= maxN || bytes >= maxB) {
        this.emit(argv);
        argv = ['ZADD', this.header.key];
        bytes = 0;
      }
    }
    if (argv.length > 2) this.emit(argv);
  }

  private writeHash(entries: HashEntry[]): void {
    const { maxElementsPerCommand: maxN, maxBytesPerCommand: maxB } = this.limits;
    // HSET with several pairs exists since 4.0; HMSET before.
    const cmd = this.features.version[0] >= 4 ? 'HSET' : 'HMSET';
    let argv: Argv = [cmd, this.header.key];
    let bytes = 0;
    let ttls: Map<number, Buffer[]> | null = null;
    const flush = (): void => {
      if (argv.length > 2) this.emit(argv);
      argv = [cmd, this.header.key];
      bytes = 0;
      if (ttls) {
        for (const [ms, fields] of ttls) {
          this.emit(['HPEXPIREAT', this.header.key, String(ms), 'FIELDS', String(fields.length), ...fields]);
        }
        ttls = null;
      }
    };
    for (const e of entries) {
      const exp = e.expireAtMs ?? null;
      if (exp !== null) {
        if (exp <= this.nowMs) {
          this.report.expiredFields++;
          continue;
        }
        if (this.features.hashFieldTtl) {
          ttls ??= new Map();
          const list = ttls.get(exp);
          if (list) list.push(e.field);
          else ttls.set(exp, [e.field]);
        } else {
          this.report.droppedFieldTtls++;
        }
      }
      argv.push(e.field, e.value);
      bytes += e.field.length + e.value.length;
      if ((argv.length - 2) / 2 >= maxN || bytes >= maxB) flush();
    }
    flush();
  }
}
