/**
 * Everything rump does with ONE source node, on one reading connection:
 *   1. with --live: subscribe to key events and check they are on (before anything is read, so no change
 *      made while the pass runs is missed);
 *   2. a full pass: SCAN (or the keys file) + DUMP + expiry through the rate limiter, the payload version
 *      gate and the filters, into the shared writer;
 *   3. with --live: re-copy the keys events named, debounced, each page flushed before the next; a key
 *      found gone is deleted on the target. A lost subscriber is connected again and the node rescanned
 *      (events in between were missed); so is a node whose pending set overflowed.
 */
import type { Counters } from '../core/counters.js';
import type { Entry, EntryBatch, Transform } from '../core/entry.js';
import type { RedisTarget } from '../sinks/redis/target.js';
import { ScanSource, type KeyPage } from '../sources/scan.js';
import { readServerFacts } from '../sources/scan-server.js';
import { readFilters, type RumpFilterOptions } from './filters.js';
import { keysFilePages } from './keys-file.js';
import { PROBE_PREFIX, checkNotifications } from './notify-check.js';
import { PayloadGate } from './payload-gate.js';
import { PendingKeys } from './pending.js';
import { RateLimiter, type RateLimits } from './rate-limit.js';
import type { SerialWriter } from './serial-writer.js';
import { openNode, type ConnectSource, type SourceConnection, type SourceNode } from './source-nodes.js';
import type { RumpStats } from './stats.js';
import { KeyeventSubscriber, type KeyEvent } from './subscriber.js';

export interface NodeSettings {
  dbs?: number[];
  scanCount: number;
  match?: string;
  /** SCAN TYPE (one --type on a 6.0+ source), or null. */
  scanType: string | null;
  filters: RumpFilterOptions;
  /** Filter on names for keys not found by SCAN (events, keys file). */
  nameFilter: ((db: number, key: Buffer) => boolean) | null;
  rate: RateLimits;
  keysFile: string | null;
  /** Copy function libraries (read from the first node only). */
  functions: boolean;
  live: boolean;
  notifyCheck: boolean;
  debounceMs: number;
  maxPending: number;
  bigKeyThreshold: number;
  /** Key -> index of the node serving it (keys-file mode on a cluster). */
  routeKey: (key: Buffer) => number;
  /** How long a lost subscriber is retried before the run fails (ms). */
  resubscribeForMs: number;
  onNotice?: (message: string) => void;
}

export interface RumpContext {
  counters: Counters;
  stats: RumpStats;
  writer: SerialWriter;
  target: RedisTarget;
  signal: AbortSignal;
  connectSource: ConnectSource;
  settings: NodeSettings;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class NodeRunner {
  readonly limiter: RateLimiter;
  private conn: SourceConnection | null = null;
  private subscriber: KeyeventSubscriber | null = null;
  private readonly pending: PendingKeys | null;
  private probeListener: ((e: KeyEvent) => void) | null = null;
  private lost: string | null = null;
  private countedTotal = false;

  constructor(
    readonly node: SourceNode,
    private readonly index: number,
    private readonly ctx: RumpContext,
  ) {
    const s = ctx.settings;
    this.limiter = new RateLimiter(s.rate);
    this.pending = s.live ? new PendingKeys({ debounceMs: s.debounceMs, maxKeys: s.maxPending }) : null;
  }

  /** Wakes a waiting live loop (stop requested). */
  wake(): void {
    this.pending?.notify();
  }

  /** Phase 1 and 2; `run()` continues with 3. Connections stay open until `close()`. */
  async firstPass(): Promise<void> {
    this.conn = await openNode(this.node, this.ctx.connectSource);
    if (this.ctx.settings.live) {
      await this.subscribe();
      await this.checkNotify();
    }
    await this.pass(true);
  }

  /** Phase 3 (--live), until the signal aborts. */
  async follow(): Promise<void> {
    const { signal, stats } = this.ctx;
    while (!signal.aborted) {
      await this.liveLoop();
      if (signal.aborted) break;
      if (this.lost !== null) await this.resubscribe();
      if (signal.aborted) break;
      if (this.pending?.overflowed) {
        this.ctx.settings.onNotice?.(
          `${this.node.addr}: more than ${this.ctx.settings.maxPending} keys waiting for a re-copy: rescanning instead`,
        );
      }
      this.setPending(() => {
        if (this.pending) this.pending.overflowed = false;
      });
      stats.live.rescans++;
      stats.phase = 'rescanning';
      await this.pass(false);
      await this.ctx.writer.flush();
      stats.phase = 'live';
    }
  }

  async close(): Promise<void> {
    this.subscriber?.close();
    this.subscriber = null;
    await this.conn?.close().catch(() => {});
    this.conn = null;
  }

  // ---- events ----

  private async subscribe(): Promise<void> {
    const sub = new KeyeventSubscriber({
      connection: this.node.connection,
      onEvent: (e) => this.onEvent(e),
      onLost: (reason) => {
        this.lost = reason;
        this.ctx.settings.onNotice?.(`${reason}: reconnecting, then rescanning ${this.node.addr}`);
        this.pending?.notify();
      },
    });
    await sub.start();
    this.subscriber = sub;
    this.lost = null;
  }

  private onEvent(e: KeyEvent): void {
    this.ctx.stats.live.events++;
    this.probeListener?.(e);
    if (e.key.length >= PROBE_PREFIX.length && e.key.toString('latin1', 0, PROBE_PREFIX.length) === PROBE_PREFIX) {
      return;
    }
    const keep = this.ctx.settings.nameFilter;
    if (keep && !keep(e.db, e.key)) return;
    if (this.node.cluster && e.db !== 0) return;
    this.setPending(() => this.pending?.add(e.db, e.key));
  }

  private setPending(change: () => void): void {
    const before = this.pending?.size ?? 0;
    change();
    this.ctx.stats.live.pending += (this.pending?.size ?? 0) - before;
  }

  private async checkNotify(): Promise<void> {
    if (!this.ctx.settings.notifyCheck) {
      this.ctx.stats.notifyChecks.push(`${this.node.addr}: not checked (--no-notify-check)`);
      return;
    }
    const how = await checkNotifications({
      node: this.node,
      conn: this.conn as SourceConnection,
      connectSource: this.ctx.connectSource,
      listen: (fn) => {
        this.probeListener = fn;
        return () => {
          this.probeListener = null;
        };
      },
    });
    this.ctx.stats.notifyChecks.push(
      `${this.node.addr}: ${how === 'config' ? 'CONFIG GET notify-keyspace-events' : 'probe writes'} ok`,
    );
  }

  private async resubscribe(): Promise<void> {
    const started = Date.now();
    let delay = 250;
    for (;;) {
      this.subscriber?.close();
      this.subscriber = null;
      try {
        await this.subscribe();
        this.ctx.stats.live.resubscribes++;
        return;
      } catch (err) {
        if (this.ctx.signal.aborted) return;
        if (Date.now() - started > this.ctx.settings.resubscribeForMs) {
          throw new Error(`${this.node.addr}: key events lost and re-subscribing failed: ${(err as Error).message}`);
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  // ---- reading ----

  private transforms(gate: PayloadGate): Transform[] {
    const s = this.ctx.settings;
    return [...readFilters(s.filters, this.ctx.counters, s.scanType), gate];
  }

  private gate(): PayloadGate {
    return new PayloadGate({
      target: this.ctx.target.profile,
      counters: this.ctx.counters,
      bigKeyThreshold: this.ctx.settings.bigKeyThreshold,
    });
  }

  /** A full pass over the node: SCAN, or the keys file. */
  private async pass(first: boolean): Promise<void> {
    const s = this.ctx.settings;
    const conn = this.conn as SourceConnection;
    const pageSize = this.limiter.pageSize(s.scanCount);
    let keyPages: AsyncIterable<KeyPage> | undefined;
    if (s.keysFile !== null) {
      const facts = await readServerFacts(conn);
      const dbs = s.dbs ?? (facts.cluster ? [0] : [...facts.keyspace.keys()].sort((a, b) => a - b));
      const keep = s.nameFilter;
      keyPages = keysFilePages(
        s.keysFile,
        dbs,
        pageSize,
        (db, key) => s.routeKey(key) === this.index && (keep === null || keep(db, key)),
      );
    }
    const source = new ScanSource(conn, {
      counters: this.ctx.counters,
      // The sink sends payloads as they are where the versions match (the target checks them), else checks them.
      verifyPayloads: false,
      dbs: s.dbs,
      scanCount: pageSize,
      match: s.match,
      scanType: s.scanType ?? undefined,
      functions: first && s.functions && this.index === 0,
      keyPages,
      onNotice: (m) => s.onNotice?.(`${this.node.addr}: ${m}`),
    });
    await this.pump(source, false, () => {
      if (!first || this.countedTotal || s.keysFile !== null || !source.info.facts) return;
      this.countedTotal = true;
      let n = 0;
      for (const [db, k] of source.info.facts.keyspace) if (!s.dbs || s.dbs.includes(db)) n += k.keys;
      this.ctx.stats.addTotal(n);
    });
  }

  /** Re-copies keys named by events until stopped, the subscriber is lost, or the pending set overflowed. */
  private async liveLoop(): Promise<void> {
    const pending = this.pending as PendingKeys;
    const pageSize = this.limiter.pageSize(this.ctx.settings.scanCount);
    const signal = this.ctx.signal;
    const pages = async function* (this: NodeRunner): AsyncGenerator<KeyPage> {
      for (;;) {
        if (signal.aborted || this.lost !== null || pending.overflowed) return;
        let page: KeyPage | null = null;
        this.setPending(() => (page = pending.takeDue(pageSize)));
        if (page) yield page;
        else await pending.waitForWork(pending.nextDueIn());
      }
    }.call(this);
    const vanished: KeyPage[] = [];
    const source = new ScanSource(this.conn as SourceConnection, {
      counters: this.ctx.counters,
      verifyPayloads: false,
      keyPages: pages,
      scanCount: this.ctx.settings.scanCount, // unused: the pages come from the events, not SCAN
      functions: false,
      dedup: false,
      onVanished: (db, key) => vanished.push({ db, keys: [key] }),
    });
    const live = this.ctx.stats.live;
    const del = Buffer.from(this.ctx.target.profile.features.version[0] >= 4 ? 'UNLINK' : 'DEL');
    await this.pump(source, true, (batch) => {
      let copied = 0;
      for (const e of batch) if (e.kind === 'key-end') copied++;
      live.recopied += copied + vanished.length;
      live.deleted += vanished.length;
      const out: Entry[] = [];
      for (const v of vanished.splice(0)) out.push({ kind: 'command', db: v.db, argv: [del, v.keys[0] as Buffer] });
      return out;
    });
  }

  /**
   * Source -> transforms -> writer, charging the rate limiter per batch and waiting while it is in debt.
   * `extra` sees each batch as read and returns entries to write after it (live deletions).
   */
  private async pump(source: ScanSource, flush: boolean, extra: (batch: EntryBatch) => Entry[] | void): Promise<void> {
    const gate = this.gate();
    const transforms = this.transforms(gate);
    const signal = this.ctx.signal;
    let version: number | null = null;
    try {
      for await (const read of source) {
        let keys = 0;
        let bytes = 0;
        for (const e of read) {
          if (e.kind === 'header') version = e.version;
          else if (e.kind === 'key-end') {
            keys++;
            // The whole DUMP payload, as counters.bytesRead: type byte + body + version + CRC64.
            bytes += (e.raw?.length ?? 0) + 11;
          }
        }
        const more = extra(read);
        let batch = read;
        for (const t of transforms) batch = t.apply(batch);
        batch = batch.filter((e) => e.kind !== 'header' && e.kind !== 'end');
        if (more && more.length > 0) batch.push(...more);
        if (batch.length > 0 || flush) await this.ctx.writer.write(batch, version, flush);
        this.limiter.charge(keys, bytes);
        await this.limiter.wait(signal);
        if (signal.aborted) break;
      }
    } finally {
      this.ctx.stats.decodedForVersion += gate.stats.decodedForVersion;
      this.ctx.stats.decodedForSize += gate.stats.decodedForSize;
    }
  }
}
