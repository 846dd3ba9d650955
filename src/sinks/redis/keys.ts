/**
 * Writes keys (key-start, value batches, key-end) to the target, following strategy.ts:
 * - a key is buffered until key-end while it stays under the big-key threshold, then written with ONE
 *   RESTORE (the captured raw body restamped, or a body re-encoded for the target's RDB version);
 * - a key that outgrows the threshold (or is known big at key-start) switches to commands and streams: its
 *   buffered batches and every later batch become commands at once, so it is never held whole;
 * - a small key that needs commands (proxy, field TTLs on an old target) is written whole after a batched
 *   EXISTS pre-check (on-conflict skip/error), or after UNLINK (replace).
 * Expired keys are skipped and counted; TTLs are absolute (RESTORE ... ABSTTL, PEXPIREAT).
 */
import {
  RDB_TYPE,
  RdbError,
  buildDumpPayloadBuffer,
  dumpBodyEvents,
  dumpPayloadVersion,
  verifyDumpPayload,
  encodeValueEvents,
  isValueEvent,
  type KeyHeader,
  type ValueEvent,
} from '@shake/rdb';
import { KeyRewriter, type Argv, type RewriteLimits, type RewriteReport } from '../../rewrite/key-rewriter.js';
import type { ConnWriter } from './conn-writer.js';
import type { SinkCore } from './core.js';
import type { DbMapper } from './db-map.js';
import { KeyWrite } from './key-write.js';
import { RestoreCommand } from './restore-command.js';
import { Prechecks } from './precheck.js';
import { StringBatches } from './string-batch.js';
import { isBig, planAtEnd, planAtStart } from './strategy.js';

interface CurrentKey {
  header: KeyHeader;
  length: number | undefined;
  db: number;
  mode: 'skip' | 'buffer' | 'commands';
  events: ValueEvent[];
  bytes: number;
  elements: number;
  writer: ConnWriter | null;
  ref: KeyWrite | null;
  rewriter: KeyRewriter | null;
  /** Known big at key-start while the source sends no value events (values come from the raw body). */
  bigAtStart: boolean;
  /** The value events are being replayed from the raw body (or a second read): no raw logic again. */
  replayed: boolean;
}

export interface KeyLoaderOptions {
  bigKeyThreshold: number;
  bigKeyElements: number;
  rewriteLimits: RewriteLimits;
  now: () => number;
}

export class KeyLoader {
  private cur: CurrentKey | null = null;
  /** RDB version of the file being read (header event); null for sources that are not RDB files. */
  sourceRdbVersion: number | null = null;
  /**
   * The source decodes no values (RdbParser `values: false`): small keys come as key-start + key-end.raw,
   * and a value is decoded from its raw body only when it must be re-encoded or written as commands.
   */
  valuesFromRaw = false;
  readonly prechecks: Prechecks;
  /** Strings without a TTL, many keys to an MSET (string-batch.ts): a standalone target, no merged dbs. */
  private readonly strings: StringBatches | null;
  private readonly absTtl: boolean;
  /** RESTORE ... REPLACE; or, on a target before 3.0 that has no REPLACE, DEL first (delFirst). */
  private readonly replace: boolean;
  private readonly delFirst: boolean;

  constructor(
    private readonly core: SinkCore,
    private readonly dbs: DbMapper,
    private readonly opts: KeyLoaderOptions,
  ) {
    this.prechecks = new Prechecks(core);
    this.strings = core.target.profile.kind === 'standalone' && dbs.injective() ? new StringBatches(core) : null;
    this.absTtl = core.target.profile.features.restoreAbsTtl;
    const replace = core.onConflict === 'replace';
    this.replace = replace && core.target.profile.features.restoreReplace;
    this.delFirst = replace && !core.target.profile.features.restoreReplace;
  }

  /** The target's clock: a RESTORE without ABSTTL takes a TTL relative to it. */
  private targetNow(): number {
    return Date.now() + (this.core.target.clockOffsetMs ?? 0);
  }

  get inKey(): boolean {
    return this.cur !== null;
  }

  start(header: KeyHeader, length: number | undefined): Promise<void> | undefined {
    const db = this.dbs.map(header.db);
    const cur: CurrentKey = {
      header,
      length,
      db,
      mode: 'buffer',
      events: [],
      bytes: 0,
      elements: 0,
      writer: null,
      ref: null,
      rewriter: null,
      bigAtStart: false,
      replayed: !this.valuesFromRaw,
    };
    this.cur = cur;
    if (header.expireAtMs !== null && header.expireAtMs <= this.opts.now()) {
      this.core.counters.skip('expired');
      cur.mode = 'skip';
      return undefined;
    }
    const plan = planAtStart(header, length, this.core.target.profile, this.opts);
    if (plan.how === 'unsupported') {
      this.core.fail(header.key, db, plan.why);
      cur.mode = 'skip';
    } else if (plan.how === 'commands') {
      // Without value events (they come from the raw body at key-end), only note it; with them, stream now.
      if (cur.replayed) return this.streamAsCommands(cur);
      cur.bigAtStart = true;
    }
    return undefined;
  }

  /** A value batch of the current key. Returns a promise only when the caller must wait (backpressure). */
  value(ev: ValueEvent): Promise<void> | undefined {
    const cur = this.cur;
    if (!cur || cur.mode === 'skip') return undefined;
    if (cur.mode === 'buffer') {
      // Value events after all (a parser that decodes values): behave as in the decoding mode.
      cur.replayed = true;
      if (cur.bigAtStart) {
        return this.streamAsCommands(cur).then(() => this.value(ev));
      }
      cur.events.push(ev);
      cur.bytes += eventBytes(ev);
      cur.elements += eventElements(ev);
      if (isBig(cur.bytes, cur.elements, this.opts) && cur.header.type !== 'module') return this.streamAsCommands(cur);
      return undefined;
    }
    cur.rewriter?.push(ev);
    const w = cur.writer as ConnWriter;
    return w.busy ? w.ready() : undefined;
  }

  /** `payload`: the unchecked DUMP payload `raw` came in (key-end.payload), sent as is where the versions match. */
  end(raw: Buffer | undefined, payload?: Buffer): Promise<void> | undefined {
    const cur = this.cur;
    this.cur = null;
    if (!cur || cur.mode === 'skip') return undefined;
    if (cur.mode === 'commands') {
      this.finishRewrite(cur);
      const w = cur.writer as ConnWriter;
      return w.busy ? w.ready() : undefined;
    }
    const profile = this.core.target.profile;
    if (!cur.replayed) {
      // The source sent no value events: the raw body is the value (or, too big to capture, read it again).
      if (raw === undefined) {
        this.deferred.push(cur.header);
        return undefined;
      }
      if (cur.bigAtStart) return this.fromRaw(cur, raw);
    }
    const plan = planAtEnd(cur.header, raw, this.sourceRdbVersion, profile, true);
    if (payload !== undefined) {
      // From a source that did not check the CRC: the target checks it when the payload goes as is; before
      // restamping or decoding it, check it here.
      if (plan.how === 'restore-raw' && dumpPayloadVersion(payload) === profile.rdbVersion) {
        this.core.stats.restoreRaw++;
        return this.restore(cur, this.restoreHead(cur).payload(payload));
      }
      try {
        verifyDumpPayload(payload);
      } catch (err) {
        if (!(err instanceof RdbError)) throw err;
        this.core.fail(cur.header.key, cur.db, `DUMP payload: ${err.message}`);
        return undefined;
      }
    }
    if (!cur.replayed && plan.how !== 'restore-raw' && plan.how !== 'unsupported')
      return this.fromRaw(cur, raw as Buffer);
    switch (plan.how) {
      case 'restore-raw': {
        if (
          this.strings !== null &&
          payload === undefined &&
          cur.header.rdbType === RDB_TYPE.STRING &&
          cur.header.expireAtMs === null
        ) {
          const r = this.batchString(cur, raw as Buffer);
          if (r !== false) return r;
        }
        // planAtEnd checked that the target loads this type id: restamp the body for its RDB version.
        this.core.stats.restoreRaw++;
        return this.restore(cur, this.restoreHead(cur).body(cur.header.rdbType, raw as Buffer, profile.rdbVersion));
      }
      case 'restore-encode': {
        const payload = this.encode(cur);
        if (payload) {
          this.core.stats.restoreEncoded++;
          return this.restore(cur, this.restoreHead(cur).payload(payload));
        }
        return this.smallAsCommands(cur);
      }
      case 'commands':
        return this.smallAsCommands(cur);
      case 'unsupported':
        this.core.fail(cur.header.key, cur.db, plan.why);
        return undefined;
    }
  }

  /**
   * Value events decoded from the captured body, streamed: the body is fed to a payload parser in slices
   * and each batch goes through the usual path (buffer then RESTORE re-encoded, or commands), with
   * backpressure. Memory: the body (at most the capture limit) and one batch.
   */
  private async fromRaw(cur: CurrentKey, raw: Buffer): Promise<void> {
    cur.replayed = true;
    this.cur = cur;
    if (cur.bigAtStart) await this.streamAsCommands(cur);
    const version = this.sourceRdbVersion ?? this.core.target.profile.rdbVersion;
    for (const events of dumpBodyEvents(cur.header.rdbType, raw, version, { batchSize: 1024 })) {
      for (const ev of events) {
        if (!isValueEvent(ev)) continue;
        const p = this.value(ev);
        if (p) await p;
      }
    }
    const p = this.end(undefined);
    if (p) await p;
  }

  /** Keys whose value was too big to capture and came without events: the sink reads them again. */
  readonly deferred: KeyHeader[] = [];

  /** The buffered value re-encoded for the target's RDB version as one DUMP payload; null when it cannot be. */
  private encode(cur: CurrentKey): Buffer | null {
    const target = this.core.target.profile.rdbVersion;
    try {
      const r = encodeValueEvents(cur.header, cur.events, { targetRdbVersion: target, length: cur.length });
      if (r.droppedFieldTtls > 0) return null;
      return buildDumpPayloadBuffer(r.rdbType, r.body, target);
    } catch (err) {
      if (err instanceof RdbError) return null;
      throw err;
    }
  }

  /** A string key into the connection's MSET; false: not one for a batch (it goes as its RESTORE). */
  private batchString(cur: CurrentKey, raw: Buffer): Promise<void> | undefined | false {
    try {
      return (this.strings as StringBatches).add(this.core.writerForKey(cur.header.key), cur.db, cur.header.key, raw);
    } catch (err) {
      if (!(err instanceof RdbError)) throw err;
      this.core.fail(cur.header.key, cur.db, `string value: ${err.message}`);
      return undefined;
    }
  }

  /** Sends what is gathered but not yet sent (string batches, pre-checked keys): before draining or switching. */
  async flushPending(): Promise<void> {
    this.strings?.flush();
    await this.prechecks.flush();
  }

  /** The TTL argument of RESTORE: 0 (none), the absolute time (ABSTTL) or what is left by the target's clock. */
  private restoreTtl(exp: number | null): number {
    if (exp === null) return 0;
    return this.absTtl ? exp : Math.max(1, exp - this.targetNow());
  }

  /** RESTORE of the current key, its value still to give (body or payload): TTL and REPLACE set. */
  private restoreHead(cur: CurrentKey): RestoreCommand {
    const exp = cur.header.expireAtMs;
    return this.restoreCommand.head(cur.header.key, this.restoreTtl(exp), this.absTtl && exp !== null, this.replace);
  }

  /** One RESTORE, written straight into the batch of the key's connection (restore-command.ts). */
  private restore(cur: CurrentKey, cmd: RestoreCommand): Promise<void> | undefined {
    const w = this.core.writerForKey(cur.header.key);
    // Its reply is not the key's outcome: a DEL that failed leaves the key, and the RESTORE then says BUSYKEY.
    if (this.delFirst) w.push(['DEL', cur.header.key], null, cur.db);
    w.pushEncoded(cmd, this.core.singleTag(cur.db), cur.db);
    return w.busy ? w.ready() : undefined;
  }

  private readonly restoreCommand = new RestoreCommand();

  /** A whole (small) key as commands: queued behind a batched EXISTS unless replacing. */
  private async smallAsCommands(cur: CurrentKey): Promise<void> {
    const w = this.core.writerForKey(cur.header.key);
    const ref = new KeyWrite(cur.db, cur.header.key, this.core);
    const cmds: Argv[] = [];
    const rw = new KeyRewriter(
      cur.header,
      this.core.target.profile.features,
      this.opts.rewriteLimits,
      (a) => cmds.push(a),
      this.opts.now(),
    );
    for (const ev of cur.events) rw.push(ev);
    this.addReport(rw.end(), ref);
    this.core.stats.rewritten++;
    if (cmds.length === 0) {
      // Nothing left to write (e.g. every hash field had expired): like Redis dropping an empty key on load.
      this.core.counters.skip('expired');
      return;
    }
    if (this.core.onConflict === 'replace') {
      this.sendAll(w, ref, cur.db, [this.unlink(cur.header.key), ...cmds]);
      await w.ready();
      return;
    }
    await this.prechecks.add({ writer: w, ref, db: cur.db, key: cur.header.key, cmds });
  }

  /** Switches a key to streamed commands: conflict check now, then everything buffered and to come. */
  private async streamAsCommands(cur: CurrentKey): Promise<void> {
    const w = this.core.writerForKey(cur.header.key);
    if (this.core.onConflict !== 'replace') {
      if (await this.prechecks.existsNow(w, cur.db, cur.header.key)) {
        this.core.conflict(cur.header.key, cur.db);
        cur.mode = 'skip';
        cur.events = [];
        return;
      }
    }
    const ref = new KeyWrite(cur.db, cur.header.key, this.core);
    if (this.core.onConflict === 'replace') {
      ref.sent();
      w.push(this.unlink(cur.header.key), ref, cur.db);
    }
    const db = cur.db;
    cur.mode = 'commands';
    cur.writer = w;
    cur.ref = ref;
    cur.rewriter = new KeyRewriter(
      cur.header,
      this.core.target.profile.features,
      this.opts.rewriteLimits,
      (argv) => {
        ref.sent();
        w.push(argv, ref, db);
      },
      this.opts.now(),
    );
    const events = cur.events;
    cur.events = [];
    cur.bytes = 0;
    for (const ev of events) {
      cur.rewriter.push(ev);
      await w.ready();
    }
  }

  private finishRewrite(cur: CurrentKey): void {
    const rw = cur.rewriter as KeyRewriter;
    const ref = cur.ref as KeyWrite;
    const report = rw.end();
    this.addReport(report, ref);
    this.core.stats.rewritten++;
    if (!rw.wroteValue && report.commands === 0) {
      // Nothing of the value was left to write (every hash field had expired): counted as expired, and the
      // key's bookkeeping is never closed, so a preceding UNLINK's reply does not count it as written.
      this.core.counters.skip('expired');
      return;
    }
    ref.close();
  }

  private sendAll(w: ConnWriter, ref: KeyWrite, db: number, cmds: Argv[]): void {
    for (const a of cmds) {
      ref.sent();
      w.push(a, ref, db);
    }
    ref.close();
  }

  private unlink(key: Buffer): Argv {
    return [this.core.target.profile.features.version[0] >= 4 ? 'UNLINK' : 'DEL', key];
  }

  /** Field TTLs dropped count when the key turns out written (SinkCore.keyDone); the rest now. */
  private addReport(r: RewriteReport, ref: KeyWrite): void {
    const s = this.core.stats;
    ref.droppedFieldTtls += r.droppedFieldTtls;
    s.expiredFields += r.expiredFields;
    s.lostStreamDetails += r.lostStreamDetails;
  }
}

/** Elements a value event carries (for the big-key element threshold). */
export function eventElements(ev: ValueEvent): number {
  switch (ev.kind) {
    case 'list-items':
      return ev.items.length;
    case 'set-members':
      return ev.members.length;
    case 'zset-entries':
    case 'hash-entries':
    case 'stream-entries':
      return ev.entries.length;
    case 'stream-group':
      return 1 + ev.group.pel.length + ev.group.consumers.length;
    default:
      return 1;
  }
}

/** Approximate serialized size of a value event (for the big-key threshold). */
export function eventBytes(ev: ValueEvent): number {
  let n = 0;
  switch (ev.kind) {
    case 'string':
      return ev.value.length;
    case 'list-items':
      for (const b of ev.items) n += b.length + 2;
      return n;
    case 'set-members':
      for (const b of ev.members) n += b.length + 2;
      return n;
    case 'zset-entries':
      for (const e of ev.entries) n += e.member.length + 10;
      return n;
    case 'hash-entries':
      for (const e of ev.entries) n += e.field.length + e.value.length + 4;
      return n;
    case 'stream-entries':
      for (const e of ev.entries) for (const [f, v] of e.fields) n += f.length + v.length + 4;
      return n + ev.entries.length * 16;
    case 'stream-group':
      return 64 + ev.group.pel.length * 32;
    case 'module':
      return ev.value.raw.length;
    default:
      return 16;
  }
}
