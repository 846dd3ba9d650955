/**
 * The Redis sink shared by restore, sync and rump: keys (RDB events) and commands (AOF, replication stream)
 * into a live standalone server, cluster or proxy. Pipelined over several connections per master with a
 * bounded number of batches in flight; `write()` returns a promise only while the target is behind, so the
 * pipeline runner's await is the backpressure. Keys go by strategy.ts; commands are replayed in order.
 * Switching between keys and commands waits for everything in flight, so a replayed command never
 * overtakes the key it changes.
 */
import { isValueEvent } from '@shake/rdb';
import { defaultConfig } from '../../config/schema.js';
import type { Counters } from '../../core/counters.js';
import type { Entry, EntryBatch, Sink } from '../../core/entry.js';
import { DEFAULT_REWRITE_LIMITS, type RewriteLimits } from '../../rewrite/key-rewriter.js';
import { DEFAULT_CONN_LIMITS, type ConnLimits } from './conn-writer.js';
import { SinkCore, type ConflictPolicy, type ErrorPolicy } from './core.js';
import { targetDbMapper, type DbMapSpec } from './db-map.js';
import { FunctionLoader } from './functions.js';
import { KeyLoader } from './keys.js';
import { CommandReplayer } from './replay.js';
import { emptyStats, type RedisSinkStats } from './stats.js';
import { DEFAULT_BIG_KEY_ELEMENTS } from './strategy.js';
import type { RedisTarget } from './target.js';

export interface RedisSinkOptions {
  target: RedisTarget;
  counters: Counters;
  onConflict?: ConflictPolicy;
  onError?: ErrorPolicy;
  functions?: ConflictPolicy;
  /** Keys bigger than this (serialized bytes) are written as streamed commands (default 16 MiB). */
  bigKeyThreshold?: number;
  /** Keys with more elements than this too (default 65536): bounds the memory of a key waiting for RESTORE. */
  bigKeyElements?: number;
  dbMap?: DbMapSpec;
  /** Keys per target db before the run wrote (targetKeyspace): tells a db-merge collision from an existing key. */
  targetDbsAtStart?: ReadonlyMap<number, number> | null;
  rewriteLimits?: RewriteLimits;
  connLimits?: ConnLimits;
  /** Clock for expiry decisions (default Date.now). */
  now?: () => number;
  onWarning?: (message: string) => void;
  /**
   * The source's RDB parser decodes no values (`values: false`): keys arrive as key-start + key-end.raw and
   * values are decoded from the raw body only where needed (see keys.ts).
   */
  valuesFromRaw?: boolean;
  /**
   * Reads the current RDB part again with values decoded (events of every key; the sink keeps those at the
   * given offsets): for keys too big to capture when `valuesFromRaw` is on. Called at the part's RDB end,
   * before anything that follows it (an AOF tail), so order is kept.
   */
  reread?: (offsets: ReadonlySet<number>) => AsyncIterable<EntryBatch>;
}

/** The schema's [restore] big_key_threshold, for library callers that give none. */
export const DEFAULT_BIG_KEY_THRESHOLD = defaultConfig().restore.big_key_threshold;

export class RedisSink implements Sink {
  readonly stats: RedisSinkStats = emptyStats();
  private readonly core: SinkCore;
  private readonly keys: KeyLoader;
  private readonly replay: CommandReplayer;
  private readonly functions: FunctionLoader;
  private last: 'keys' | 'commands' | null = null;
  private readonly warnings = new Set<string>();

  constructor(private readonly opts: RedisSinkOptions) {
    const t = opts.target;
    this.core = new SinkCore(
      t,
      opts.counters,
      this.stats,
      opts.connLimits ?? DEFAULT_CONN_LIMITS,
      opts.onConflict ?? 'error',
      opts.onError ?? 'stop',
    );
    const kind = t.profile.kind;
    const dbs = targetDbMapper(opts.dbMap, kind);
    this.core.merges = { mapper: dbs, atStart: opts.targetDbsAtStart ?? null };
    this.core.sameKeySameConnection = !dbs.injective();
    this.keys = new KeyLoader(this.core, dbs, {
      bigKeyThreshold: opts.bigKeyThreshold ?? DEFAULT_BIG_KEY_THRESHOLD,
      bigKeyElements: opts.bigKeyElements ?? DEFAULT_BIG_KEY_ELEMENTS,
      rewriteLimits: opts.rewriteLimits ?? DEFAULT_REWRITE_LIMITS,
      now: opts.now ?? Date.now,
    });
    this.keys.valuesFromRaw = opts.valuesFromRaw === true;
    this.replay = new CommandReplayer(this.core, dbs);
    this.functions = new FunctionLoader(this.core, opts.functions ?? 'error');
  }

  async write(batch: EntryBatch): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const p = this.entry(batch[i] as Entry);
      if (p) await p;
      // --on-error stop: a failure seen in a reply ends the run at the next entry.
      if (this.core.stopReason !== null) break;
    }
    if (this.core.hasRetries) await this.core.processRetries();
    if (this.core.stopReason !== null) await this.core.checkStop();
  }

  private entry(e: Entry): Promise<void> | undefined {
    if (isValueEvent(e)) return this.keys.value(e);
    switch (e.kind) {
      case 'header':
        this.keys.sourceRdbVersion = e.version;
        return undefined;
      case 'key-start':
        if (this.last === 'commands') return this.switchTo('keys').then(() => this.keys.start(e.header, e.length));
        this.last = 'keys';
        return this.keys.start(e.header, e.length);
      case 'key-end':
        return this.keys.end(e.raw, e.payload);
      case 'command':
        if (this.last !== 'commands' && !this.replay.inTransaction) {
          return this.switchTo('commands').then(() => this.replay.command(e));
        }
        return this.replay.command(e);
      case 'function':
        return this.functions.load(e.code);
      case 'function-pre-ga':
        return this.functions.load(
          Buffer.concat([Buffer.from(`#!${e.engine.toString()} name=${e.name.toString()}\n`), e.code]),
        );
      case 'module-aux':
        this.warnOnce(`module aux data of ${e.module.name} is not restored (it belongs to the module's own state)`);
        return undefined;
      case 'end':
        if (this.keys.deferred.length > 0) return this.readDeferred().then(() => this.partEnd());
        this.partEnd();
        return undefined;
      default:
        return undefined;
    }
  }

  /** The next input part (cluster dump, multi-part AOF) may be another RDB version. */
  private partEnd(): void {
    this.keys.sourceRdbVersion = null;
  }

  /** The keys of this RDB part that were too big to capture: read the part again for their values. */
  private async readDeferred(): Promise<void> {
    const headers = this.keys.deferred.splice(0);
    const offsets = new Set(headers.map((h) => h.offset));
    if (!this.opts.reread) {
      for (const h of headers) {
        this.core.fail(h.key, h.db, 'value bigger than the capture limit and the input cannot be read twice');
      }
      return;
    }
    const valuesFromRaw = this.keys.valuesFromRaw;
    this.keys.valuesFromRaw = false;
    let inside = false;
    try {
      for await (const batch of this.opts.reread(offsets)) {
        for (const e of batch) {
          let p: Promise<void> | undefined;
          if (e.kind === 'key-start') {
            inside = offsets.has(e.header.offset);
            if (inside) p = this.keys.start(e.header, e.length);
          } else if (inside) {
            p = this.entry(e);
            if (e.kind === 'key-end') inside = false;
          }
          if (p) await p;
        }
      }
    } finally {
      this.keys.valuesFromRaw = valuesFromRaw;
    }
  }

  /** Keys and commands never overtake each other: wait for everything in flight at each switch. */
  private async switchTo(next: 'keys' | 'commands'): Promise<void> {
    if (this.last !== null) {
      await this.keys.flushPending();
      await this.core.drainAll();
    }
    this.last = next;
  }

  private warnOnce(message: string): void {
    if (this.warnings.has(message)) return;
    this.warnings.add(message);
    this.opts.onWarning?.(message);
  }

  /** Waits until everything written so far is answered, without closing (rump --live: re-copies land in order). */
  async flush(): Promise<void> {
    await this.keys.flushPending();
    await this.core.drainAll();
    await this.core.checkStop();
  }

  async close(): Promise<void> {
    await this.keys.flushPending();
    await this.core.drainAll();
    await this.core.checkStop();
  }

  async abort(): Promise<void> {
    // Replies still arriving are counted where they land; nothing more is sent.
  }
}
