/**
 * `shake sync` as a plain module (no oclif, no terminal): be a replica of each source master and keep the
 * target equal to it.
 *
 *   source master --PSYNC--> ReplicaLink --snapshot--> file in the state dir --restore()--> target
 *                                 \--command stream--> Spool (disk) --BatchApplier (MULTI/EXEC + checkpoint)--> target
 *
 * Order of a session: read the checkpoint from the target; PSYNC <replid> <offset+1> when there is one (else
 * PSYNC ? -1); on +FULLRESYNC receive the snapshot into a file at network speed and load that file through the
 * restore pipeline (while it arrives into a target that holds nothing to keep, else once it is whole and
 * checked: overlappedSnapshot), spool the command stream from the snapshot's end (the master never buffers for
 * us), write the checkpoint, then apply the spool in checkpointed batches. REPLCONF ACK reports the applied offset. A
 * dropped source link resumes with PSYNC from the applied checkpoint; a stop (signal) applies what was
 * received for a few seconds more and leaves the checkpoint where the target is.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RespServerError, type RespValue } from '@shake/resp';
import {
  addressKey,
  discoverTopology,
  refuseShardOfStandalone,
  shardMasters,
  type ShardSpec,
  type SlotNode,
  type SlotTable,
} from '../cluster/index.js';
import { Counters } from '../core/counters.js';
import { connect, RedisAuthError, RedisConnectionError, type ConnectionOptions } from '../redis/index.js';
import { ReplicationError } from '../replica/errors.js';
import { replicaHandshake, type FullResync, type PartialResync } from '../replica/handshake.js';
import { ReplicaLink } from '../replica/link.js';
import { SnapshotCheck } from '../replica/snapshot-check.js';
import { fileSnapshotConsumer } from '../replica/snapshot-dump.js';
import { GrowingFile } from '../sources/growing-file.js';
import { detectKind } from '../sources/manifest.js';
import { RdbFileOutput } from '../sinks/rdb-file-output.js';
import { DEFAULT_CONN_LIMITS, type ConnLimits } from '../sinks/redis/conn-writer.js';
import { defaultConfig } from '../config/schema.js';
import { SinkCore, type ConflictPolicy } from '../sinks/redis/core.js';
import { DbMapper, mayRefuseDbs, type DbMapSpec } from '../sinks/redis/db-map.js';
import { flushTarget, restore, type RestoreRun } from './restore.js';
import { emptyStats } from '../sinks/redis/stats.js';
import type { RedisTarget, TargetNode } from '../sinks/redis/target.js';
import { BatchApplier, emptyApplyStats, type ApplyStats } from '../sync/apply.js';
import { commandSelector, type KeySelection } from '../transforms/filter.js';
import {
  checkpointKey,
  CHECKPOINT_PREFIX,
  loadingMark,
  parseCheckpoint,
  type Checkpoint,
  type CheckpointState,
} from '../sync/checkpoint.js';
import { Spool } from '../sync/spool.js';
import { TWEMPROXY_COMMANDS } from '../sinks/redis/proxy-commands.js';

export interface SyncOptions {
  /** --shard: only this share of a cluster source's masters (cluster/shard.ts); each keeps its own checkpoint. */
  shard?: ShardSpec;
  /** The source (any node of a cluster). */
  source: ConnectionOptions;
  /** Opens the target (once per source master: each link writes through its own connections). */
  openTarget: () => Promise<RedisTarget>;
  /** Directory for the snapshot file and the spool (the checkpoint itself is in the target). */
  stateDir: string;
  /** Checkpoint name; default: the source master's host:port. */
  name?: string;
  onConflict?: ConflictPolicy;
  flushTarget?: boolean;
  functions?: ConflictPolicy;
  bigKeyThreshold?: number;
  dbMap?: DbMapSpec;
  /**
   * Which keys to copy (dbs, globs, regex, exclusions, types; shake restore's filter): the snapshot through the
   * restore pipeline's key filter, the stream through its command form (commandSelector).
   */
  filter?: KeySelection;
  connLimits?: ConnLimits;
  /** A command the target does not have or refuses: stop the run (default) or count it and go on. */
  onError?: 'stop' | 'skip';
  /** Re-publish PUBLISH commands of the stream on the target (default false). */
  forwardPublish?: boolean;
  /** End once the target has applied everything the source has written (checked when the spool is empty). */
  untilCaughtUp?: boolean;
  /** Bytes of commands received and not yet applied before the run fails (default 1 GiB). */
  spoolMaxBytes?: number;
  /** Bytes of commands per applied batch (one MULTI/EXEC; default 1 MiB). */
  batchBytes?: number;
  /** No byte from the master for this long fails the link (default 60 s). */
  timeoutMs?: number;
  /** Reconnections to a dropped source link before giving up (default 10). */
  reconnects?: number;
  /** After a stop request, keep applying what was received for at most this long (default 5 s). */
  stopGraceMs?: number;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
  onWarning?: (message: string) => void;
  /** Shared live state for a progress line. */
  progress?: SyncProgress;
}

export type SyncPhase = 'connecting' | 'snapshot' | 'loading' | 'streaming' | 'stopping';

/** Live state of every link, for a progress line. */
export class SyncProgress {
  readonly links = new Map<string, LinkState>();
  get(name: string): LinkState {
    let s = this.links.get(name);
    if (!s) this.links.set(name, (s = new LinkState()));
    return s;
  }
}

export class LinkState {
  phase: SyncPhase = 'connecting';
  snapshotBytes = 0;
  snapshotTotal: number | null = null;
  received = 0;
  applied = 0;
  spoolBytes = 0;
  counters = new Counters();
  /** (offset, time received) samples: lag in seconds is how long the oldest unapplied byte has waited. */
  private arrivals: [number, number][] = [];
  noteArrival(offset: number): void {
    const last = this.arrivals[this.arrivals.length - 1];
    const now = Date.now();
    if (!last || now - last[1] >= 20) this.arrivals.push([offset, now]);
    else last[0] = offset;
  }
  get lagMs(): number {
    while (this.arrivals.length > 0 && (this.arrivals[0] as [number, number])[0] <= this.applied) this.arrivals.shift();
    const first = this.arrivals[0];
    return first && this.received > this.applied ? Date.now() - first[1] : 0;
  }
}

export interface LinkResult {
  name: string;
  peer: string;
  replid: string;
  /** Replication offset the target holds at the end. */
  offset: number;
  fullSyncs: number;
  partialSyncs: number;
  reconnects: number;
  snapshot: { bytes: number; form: 'disk' | 'diskless'; keys: number; elapsedMs: number } | null;
  restore: RestoreRun | null;
  apply: ApplyStats;
  counters: Counters;
  peakSpoolBytes: number;
}

export interface SyncResult {
  links: LinkResult[];
  /** Ended by --until-caught-up. */
  caughtUp: boolean;
  interrupted: boolean;
}

class SyncInterrupted extends Error {
  override readonly name = 'SyncInterrupted';
}

/** Errors the user must act on (bad input, a source that allows no replication): no stack needed. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
}

export async function sync(opts: SyncOptions): Promise<SyncResult> {
  mkdirSync(opts.stateDir, { recursive: true });
  const masters = await sourceMasters(opts.source, opts.shard);
  const inner = new AbortController();
  const onOuter = (): void => inner.abort();
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  try {
    const links = await Promise.all(
      masters.map((m) =>
        syncMaster(opts, m, masters, inner.signal).catch((err: unknown) => {
          inner.abort();
          const e = err as Error;
          const at = `${m.conn.host}:${m.conn.port}`;
          if (masters.length > 1 && !e.message.includes(at)) e.message = `${at}: ${e.message}`;
          throw e;
        }),
      ),
    );
    return {
      links,
      caughtUp: opts.untilCaughtUp === true && !opts.signal?.aborted,
      interrupted: opts.signal?.aborted === true,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onOuter);
  }
}

/** A source master and, for a cluster, the slots it served at the start (its shard, followed across failovers). */
interface SourceMaster {
  conn: ConnectionOptions;
  slots: [number, number][] | null;
}

/** The source's masters: itself, or every master of its cluster (of this --shard) with its slots. */
async function sourceMasters(c: ConnectionOptions, shard?: ShardSpec): Promise<SourceMaster[]> {
  const conn = await connect({ ...c, db: undefined });
  try {
    const topo = await discoverTopology(conn, { host: c.host, port: c.port }).catch((err: Error) => {
      // A refusal already names the server and says how to give the password (redis/errors.ts).
      throw new SyncError(err.message.includes(conn.address) ? err.message : `${conn.address}: ${err.message}`);
    });
    if (topo.mode === 'standalone') {
      refuseShardOfStandalone(shard);
      return [{ conn: { ...c, db: undefined }, slots: null }];
    }
    const ranges = topo.table.ranges();
    return shardMasters(topo.table.masters(), shard).map((m) => ({
      conn: { ...c, host: m.host, port: m.port, db: undefined },
      slots: ranges.filter((r) => addressKey(r.master) === addressKey(m)).map((r) => [r.start, r.end]),
    }));
  } finally {
    await conn.close().catch(() => {});
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

async function syncMaster(
  opts: SyncOptions,
  master: SourceMaster,
  all: SourceMaster[],
  signal: AbortSignal,
): Promise<LinkResult> {
  let source = master.conn;
  const name = opts.name !== undefined && opts.name !== '' ? opts.name : `${source.host}:${source.port}`;
  const state = opts.progress?.get(name) ?? new LinkState();
  const counters = state.counters;
  let target = await opts.openTarget();
  if (target.profile.kind === 'proxy') {
    opts.onWarning?.(
      'the target is a proxy (no MULTI/EXEC): each batch is applied command by command and its checkpoint written ' +
        'after its replies, so after a crash or a dropped connection the commands since the last checkpoint are ' +
        "applied again (at least once: an INCR or LPUSH may count twice); the source's transactions are not " +
        'atomic there. For exactly once, sync into the servers behind the proxy',
    );
  }
  const dir = join(opts.stateDir, safeName(name));
  mkdirSync(dir, { recursive: true });
  const newCore = (t: RedisTarget): SinkCore =>
    new SinkCore(t, counters, emptyStats(), opts.connLimits ?? DEFAULT_CONN_LIMITS, 'replace', 'skip');
  let core = newCore(target);
  const dbs = new DbMapper(
    opts.dbMap ?? { map: new Map(), rest: null },
    target.routing !== null,
    `a ${target.profile.kind} target`,
  );
  const known = await knownCommands(target);
  // The source's dbs (a SWAPDB or FLUSHDB of a db --db-map merges with another is told by the mapper).
  if (target.profile.kind === 'standalone') await noteSourceDbs(source, dbs);
  const result: LinkResult = {
    name,
    peer: `${source.host}:${source.port}`,
    replid: '',
    offset: 0,
    fullSyncs: 0,
    partialSyncs: 0,
    reconnects: 0,
    snapshot: null,
    restore: null,
    apply: emptyApplyStats(),
    counters,
    peakSpoolBytes: 0,
  };
  try {
    let current = await readCheckpoint(target, core, name);
    let slotOffsets = current.kind === 'at' ? await readSlotOffsets(target, core, name) : undefined;
    let attempt = 0;
    for (;;) {
      if (signal.aborted) break;
      const before = result.offset;
      const session = await runSession({
        opts,
        source,
        signal,
        name,
        dir,
        target,
        core,
        dbs,
        known,
        state,
        current,
        slotOffsets,
        result,
        emptyAtStart: false,
        sourceCluster: master.slots !== null,
      }).catch((err: unknown): SessionEnd => {
        if (signal.aborted && (err instanceof SyncInterrupted || err instanceof ReplicationError)) {
          return { end: 'stopped' };
        }
        // The source went away (restart, network) or a target connection was reset: try again, once there is
        // a place to resume from or a snapshot to load again (not at a first start at a wrong address).
        const resumable = current.kind === 'at' || result.fullSyncs > 0;
        if (resumable && isTransient(err)) return { end: 'link-lost', error: err as Error };
        throw err;
      });
      if (session.end !== 'link-lost') break;
      let error = session.error;
      let progressed = result.offset > before;
      for (;;) {
        // Consecutive failures count; a session that applied something starts the count again.
        attempt = progressed ? 0 : attempt + 1;
        progressed = false;
        if (attempt > (opts.reconnects ?? DEFAULTS.reconnects)) throw error;
        result.reconnects++;
        opts.onNotice?.(`${name}: ${error.message}; reconnecting`);
        await sleep(Math.min(5000, 250 * 2 ** attempt));
        if (signal.aborted) break;
        if (master.slots) {
          // A cluster shard: its master may have failed over to a replica (PSYNC2 continues there).
          const now = await shardMaster([opts.source, source, ...all.map((m) => m.conn)], source, master.slots, name);
          if (now !== source) {
            opts.onNotice?.(
              `${name}: the source shard failed over: following its new master ${now.host}:${now.port} ` +
                '(PSYNC from the checkpoint)',
            );
            source = now;
            result.peer = `${now.host}:${now.port}`;
          }
        }
        // The target holds the truth: a batch whose EXEC reply was lost with its connection may have landed,
        // and a snapshot being loaded left its mark. Fresh connections, then its checkpoint.
        try {
          await target.close().catch(() => {});
          target = await opts.openTarget();
          core = newCore(target);
          current = await readCheckpoint(target, core, name);
          slotOffsets = current.kind === 'at' ? await readSlotOffsets(target, core, name) : undefined;
          if (current.kind === 'at') Object.assign(result, { replid: current.replid, offset: current.offset });
          break;
        } catch (err) {
          if (!isTransient(err)) throw err;
          error = err as Error;
        }
      }
    }
    return result;
  } finally {
    await target.close().catch(() => {});
  }
}

/** Defaults for library callers that give none: the schema's ([sync] in conf/shake.conf). */
const DEFAULTS = defaultConfig().sync;

interface SessionContext {
  opts: SyncOptions;
  source: ConnectionOptions;
  signal: AbortSignal;
  name: string;
  dir: string;
  target: RedisTarget;
  core: SinkCore;
  dbs: DbMapper;
  known: ReadonlySet<string> | null;
  state: LinkState;
  current: CheckpointState;
  slotOffsets: Map<number, number> | undefined;
  result: LinkResult;
  /** The target held no key at the start of the session (checkEmpty; false when it could not tell). */
  emptyAtStart: boolean;
  /** The source is a cluster node: its snapshot holds db 0 only. */
  sourceCluster: boolean;
}

type SessionEnd = { end: 'stopped' | 'caught-up' } | { end: 'link-lost'; error: Error };

async function runSession(ctx: SessionContext): Promise<SessionEnd> {
  const { opts, name, dir, target, core, state, result } = ctx;
  state.phase = 'connecting';
  await checkEmpty(ctx);
  const conn = await connect({ ...ctx.source, db: undefined });
  const { socket, leftover } = conn.detach();
  const link = new ReplicaLink(socket, conn.address, opts.timeoutMs ?? DEFAULTS.timeout_ms, leftover);
  link.holdStream();
  const onAbort = (): void => link.abort(new SyncInterrupted('sync interrupted'));
  const snapshotPath = join(dir, 'snapshot.rdb');
  let out: RdbFileOutput | null = null;
  const spool = new Spool(dir, { maxBytes: opts.spoolMaxBytes ?? DEFAULTS.spool_max_bytes });
  let sessionOver = false;
  let growing: GrowingFile | null = null;
  try {
    const resume =
      ctx.current.kind === 'at' ? { replid: ctx.current.replid, offset: ctx.current.offset + 1 } : undefined;
    out = await RdbFileOutput.open(snapshotPath, { fsync: false });
    // Opened before a byte arrives (a small snapshot may be whole and renamed before the load starts).
    growing = await GrowingFile.open(out.tempPath);
    const follower = growing;
    out.onFlushed = (n) => follower.grew(n);
    const started = Date.now();
    let transferStarted: () => void = () => {};
    const started$ = new Promise<void>((resolve) => (transferStarted = resolve));
    const file = fileSnapshotConsumer(
      link,
      out,
      new SnapshotCheck(),
      started,
      (p) => {
        if (state.phase === 'connecting') state.phase = 'snapshot';
        state.snapshotBytes = p.bytes;
        state.snapshotTotal = p.total;
      },
      () => transferStarted(),
    );
    let resync: FullResync | PartialResync;
    let snapshotDone: Promise<void> | null = null;
    try {
      resync = await replicaHandshake(
        link,
        { listeningPort: socket.localPort ?? 0, rdbOnly: false, resume },
        file.consumer,
      );
      if (resync.via !== 'continue') {
        // SYNC (before 2.8) answers with the snapshot or an error: nothing is flushed before the transfer starts.
        snapshotDone = link.snapshotDone();
        snapshotDone.catch(() => {});
        if (resync.via === 'sync') await Promise.race([started$, snapshotDone]);
      }
    } catch (err) {
      throw refusal(err);
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let start: Checkpoint;
    let slotOffsets = ctx.slotOffsets;
    if (resync.via === 'continue') {
      await out.abort();
      out = null;
      result.partialSyncs++;
      const db = ctx.current.kind === 'at' ? ctx.current.db : 0;
      start = { replid: resync.replid, offset: resync.offset, db };
      if (ctx.current.kind === 'at' && resync.replid !== ctx.current.replid) {
        // psync2: the master continues under a new id (a failover); the offsets carry on.
        await writeCheckpoint(target, core, name, `${resync.replid} ${resync.offset} ${db}`);
      }
    } else {
      result.fullSyncs++;
      slotOffsets = undefined;
      start = { replid: resync.replid ?? 'sync', offset: resync.offset ?? 0, db: 0 };
    }
    state.received = start.offset;
    state.applied = start.offset;
    // From here the link only feeds the spool: it never waits for the target.
    let linkError: Error | null = null;
    let applier: BatchApplier | null = null;
    const streamToSpool = (): void =>
      link.startCommandStream(
        start.offset,
        {
          onCommand: (argv, offset) => {
            state.received = offset;
            state.noteArrival(offset);
            try {
              spool.append(argv, offset);
            } catch (err) {
              link.abort(err as Error);
            }
            return true;
          },
          onError: (err) => {
            linkError = err;
            spool.fail(err);
          },
        },
        1000,
        () => applier?.appliedOffset ?? start.offset,
      );
    if (resync.via === 'continue') streamToSpool();
    else {
      // The snapshot received whole, its header and CRC checked, the file complete.
      const output = out as RdbFileOutput;
      const receiving = (async (): Promise<void> => {
        await snapshotDone;
        file.finish(link.peer);
        await output.commit();
        out = null;
        result.snapshot = { bytes: file.bytes, form: file.form, keys: 0, elapsedMs: Date.now() - started };
      })();
      receiving.then(
        () => follower.end(),
        (err: Error) => follower.fail(err),
      );
      const overlap = await overlappedSnapshot(ctx, follower);
      if (overlap) {
        // Loaded while it arrives: the command stream goes to the spool as soon as the snapshot has ended.
        receiving.then(
          () => sessionOver || streamToSpool(),
          () => {},
        );
      } else {
        // The whole snapshot first: a transfer that breaks or a master that sends garbage leaves the target and
        // its checkpoint as they were.
        await receiving;
        streamToSpool();
      }
      // Now the target is rebuilt (FLUSHALL when it was synced before, then the loading mark).
      await prepareFullSync(ctx, resync.replid);
      state.phase = 'loading';
      let run: RestoreRun;
      try {
        run = await restore({
          input: overlap ? { rdb: { name: snapshotPath, read: () => follower.chunks() } } : { path: snapshotPath },
          target,
          counters: state.counters,
          onConflict:
            ctx.opts.flushTarget || ctx.current.kind !== 'none' ? 'replace' : (opts.onConflict ?? DEFAULTS.on_conflict),
          functions: opts.functions ?? DEFAULTS.functions,
          bigKeyThreshold: opts.bigKeyThreshold,
          dbMap: opts.dbMap,
          ...opts.filter,
          connLimits: opts.connLimits,
          onWarning: opts.onWarning,
          signal: ctx.signal,
        });
        // The reader ended only once the snapshot was received whole and checked.
        if (overlap && !run.stopped && !run.interrupted) await receiving;
      } catch (err) {
        // The keys loaded so far stay behind the loading mark (the next start flushes them and loads again); the
        // transfer's own error (link closed, checksum) says more than the reader that saw it.
        throw (overlap && follower.error) || err;
      }
      result.restore = run;
      rmSync(snapshotPath, { force: true });
      if (run.stopped) throw new SyncError(`the snapshot could not be loaded: ${run.stopped}`);
      if (run.interrupted) return { end: 'stopped' };
      result.snapshot!.keys = run.counters.keysRead;
      await writeCheckpoint(target, core, name, `${start.replid} ${start.offset} 0`);
    }
    result.replid = start.replid;
    result.offset = start.offset;
    applier = new BatchApplier({
      target,
      core,
      counters: state.counters,
      dbs: ctx.dbs,
      name,
      start,
      slotOffsets,
      forwardPublish: opts.forwardPublish === true,
      knownCommands: ctx.known,
      onError: opts.onError ?? DEFAULTS.on_error,
      stats: result.apply,
      select: commandSelector(opts.filter ?? {}),
      onWarning: opts.onWarning,
    });
    freshWriters(core, target);
    state.phase = 'streaming';
    const end = await applyLoop(ctx, spool, applier, link, () => linkError);
    // The batch whose EXEC is in flight: its reply, so the offset reported is what the target holds.
    await applier.idle();
    result.offset = applier.appliedOffset;
    result.replid = applier.applied.replid;
    if (end === 'link-lost') return { end, error: linkError ?? new Error('the source link was lost') };
    return { end };
  } finally {
    sessionOver = true;
    await growing?.close();
    ctx.signal.removeEventListener('abort', onAbort);
    link.close();
    await out?.abort().catch(() => {});
    result.peakSpoolBytes = Math.max(result.peakSpoolBytes, spool.peakBytes);
    spool.close();
  }
}

/**
 * The master that serves a shard's slots now (CLUSTER SLOTS from the first seed that answers): `current` when
 * unchanged or when no seed answers, a promoted replica after a failover. Slots now spread over several masters
 * (a reshard) cannot be followed: an error that says so.
 */
async function shardMaster(
  seeds: ConnectionOptions[],
  current: ConnectionOptions,
  slots: [number, number][],
  name: string,
): Promise<ConnectionOptions> {
  let table: SlotTable | null = null;
  for (const seed of seeds) {
    const conn = await connect({ ...seed, db: undefined, connectTimeoutMs: 1000 }).catch(() => null);
    if (!conn) continue;
    try {
      const topo = await discoverTopology(conn, { host: seed.host, port: seed.port });
      if (topo.mode === 'cluster' && topo.table.uncovered() === 0) table = topo.table;
    } catch {
      // A node that is down or loading: ask the next one.
    } finally {
      await conn.close().catch(() => {});
    }
    if (table) break;
  }
  if (!table) return current;
  const owners = new Map<string, SlotNode>();
  for (const [start, end] of slots) {
    for (let s = start; s <= end; s++) {
      const m = table.masterOf(s) as SlotNode;
      owners.set(addressKey(m), m);
    }
  }
  if (owners.size > 1) {
    throw new SyncError(
      `the source cluster was resharded: the slots ${name} served are now served by ` +
        `${[...owners.keys()].join(', ')}; sync follows a failover of a shard, not a reshard (a key moving ` +
        'between shards arrives on one link and leaves on another): run it again with --flush-target once the ' +
        'reshard is over (a new full sync)',
    );
  }
  const m = [...owners.values()][0] as SlotNode;
  return m.host === current.host && m.port === current.port ? current : { ...current, host: m.host, port: m.port };
}

/** A dropped or refused connection to the source, a timeout: worth another PSYNC. */
function isTransient(err: unknown): boolean {
  if (err instanceof ReplicationError) return err.kind === 'closed' || err.kind === 'timeout' || err.kind === 'aborted';
  if (err instanceof RedisAuthError) return false;
  if (err instanceof RedisConnectionError) return true;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/** A source that allows no replication: say what to use instead. */
function refusal(err: unknown): unknown {
  if (err instanceof ReplicationError && err.kind === 'refused') {
    return new SyncError(
      `${err.message.replace(/ \(replication needs.*$/, '')}: shake sync needs replication (a user allowed ` +
        '+psync +sync +replconf: grant them, or connect as such a user with --source-user and ' +
        'SHAKE_SOURCE_PASSWORD); where replication is disabled (ElastiCache), use shake rump --live',
    );
  }
  return err;
}

/** A writer made before (restore, checkpoint reads) may have left its connection in another db. */
function freshWriters(core: SinkCore, target: RedisTarget): void {
  for (const node of target.masters()) core.orderedWriter(node).db = -1;
}

async function applyLoop(
  ctx: SessionContext,
  spool: Spool,
  applier: BatchApplier,
  link: ReplicaLink,
  linkError: () => Error | null,
): Promise<'stopped' | 'caught-up' | 'link-lost'> {
  const { opts, state } = ctx;
  const batchBytes = opts.batchBytes ?? DEFAULTS.batch_bytes;
  let stopDeadline: number | null = null;
  let lastCaughtUpCheck = 0;
  let caughtUpConn: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    for (;;) {
      if (ctx.signal.aborted && stopDeadline === null) {
        state.phase = 'stopping';
        stopDeadline = Date.now() + (opts.stopGraceMs ?? DEFAULTS.stop_grace_ms);
        spool.end();
      }
      if (stopDeadline !== null && Date.now() > stopDeadline) return 'stopped';
      let cmds;
      try {
        cmds = await spool.next(batchBytes, 200);
      } catch (err) {
        if (stopDeadline !== null || ctx.signal.aborted) return 'stopped';
        if (err === linkError()) {
          const e = err as Error;
          if (e instanceof ReplicationError && (e.kind === 'closed' || e.kind === 'timeout')) return 'link-lost';
        }
        throw err;
      }
      state.spoolBytes = spool.backlogBytes;
      if (cmds.length > 0) {
        await applier.apply(cmds);
        state.applied = applier.appliedOffset;
        continue;
      }
      await applier.idle();
      // The batch that was in flight has applied: progress, metrics and lag see it now, not at the next command.
      state.applied = applier.appliedOffset;
      if (stopDeadline !== null) return 'stopped';
      if (opts.untilCaughtUp && spool.drained && Date.now() - lastCaughtUpCheck >= 100) {
        lastCaughtUpCheck = Date.now();
        caughtUpConn ??= await connect({ ...ctx.source, db: undefined });
        const masterOffset = await sourceOffset(caughtUpConn);
        if (masterOffset !== null && applier.appliedOffset >= masterOffset) {
          // The cut-over point: deferred expiries get their real time back (or the key goes).
          await applier.sweepExpiries();
          link.sendAck();
          return 'caught-up';
        }
      }
    }
  } finally {
    await caughtUpConn?.close().catch(() => {});
  }
}

async function sourceOffset(conn: Awaited<ReturnType<typeof connect>>): Promise<number | null> {
  const info = await conn.call(['INFO', 'replication']);
  const text = Buffer.isBuffer(info) ? info.toString('latin1') : String(info);
  const m = /^master_repl_offset:(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** Before a snapshot is loaded: a target synced before is flushed; an unknown non-empty one is refused. */
async function prepareFullSync(ctx: SessionContext, replid: string | null): Promise<void> {
  const { opts, target, core, name } = ctx;
  if (ctx.current.kind !== 'none' && target.profile.kind === 'proxy') {
    throw new SyncError(
      `${name}: the source answered +FULLRESYNC (a new snapshot), but a proxy target cannot be emptied first (no ` +
        'FLUSHALL through it), so keys deleted on the source meanwhile would stay: empty the servers behind the ' +
        `proxy, delete the checkpoint key ${checkpointKey(name)}, and run again`,
    );
  }
  if (ctx.current.kind !== 'none' || opts.flushTarget) {
    if (ctx.current.kind !== 'none') {
      opts.onNotice?.(
        `${name}: the source answered +FULLRESYNC: rebuilding the target from a new snapshot (FLUSHALL first)`,
      );
    }
    await flushTarget(target);
  }
  await writeCheckpoint(target, core, name, loadingMark(replid));
  ctx.current = { kind: 'loading' };
}

/**
 * A full sync into a target that holds nothing to keep (empty at the start and no checkpoint, --flush-target, or
 * the loading mark of a load that did not finish) is loaded while the snapshot arrives: the restore pipeline
 * follows the file the link is writing (sources/growing-file.ts), the file stays the buffer between the two, so
 * the link never waits for the target. A transfer that breaks or a checksum that fails at the end leaves the
 * loading mark: the next start flushes the target and loads a new snapshot.
 * False: receive it whole first. So for a target with keys of its own (--on-conflict replace), or a checkpoint
 * that stays usable until a new snapshot is known good (a +FULLRESYNC after a checkpoint); a proxy target; a
 * cluster target with no `--db-map *:N` and a standalone source, whose snapshot's dbs restore reads ahead from the
 * whole file (to refuse several dbs before writing; a cluster source's snapshot holds db 0 only); bytes that are
 * not an RDB.
 */
async function overlappedSnapshot(ctx: SessionContext, snapshot: GrowingFile): Promise<boolean> {
  const { opts, target } = ctx;
  const kind = target.profile.kind;
  if (kind === 'proxy' || (mayRefuseDbs(opts.dbMap, kind) && !ctx.sourceCluster)) return false;
  const holdsNothing =
    ctx.current.kind === 'loading' || (ctx.current.kind === 'none' && (opts.flushTarget === true || ctx.emptyAtStart));
  if (!holdsNothing) return false;
  // The target is touched only once the first bytes are an RDB header (garbage is refused as before, whole).
  const head = await snapshot.head(16).catch(() => null);
  return head !== null && detectKind(head) === 'rdb';
}

/**
 * Before the first PSYNC: a target holding keys and no checkpoint is refused unless the user said how. Notes
 * whether it is empty (a snapshot into an empty target is loaded while it arrives: overlappedSnapshot).
 */
async function checkEmpty(ctx: SessionContext): Promise<void> {
  const { opts, target } = ctx;
  ctx.emptyAtStart = false;
  if (ctx.current.kind !== 'none' || opts.flushTarget) return;
  if (target.profile.kind === 'proxy') {
    if (opts.onConflict === 'replace') return;
    throw new SyncError(
      'a proxy target cannot tell whether it is empty (no INFO, DBSIZE or SCAN through it): make sure the servers ' +
        'behind it hold nothing, then give --on-conflict replace',
    );
  }
  const keys = await countKeys(target);
  ctx.emptyAtStart = keys === 0;
  if (keys > 0 && opts.onConflict !== 'replace') {
    throw new SyncError(
      `the target is not empty (${keys} keys): give --flush-target to empty it first, or --on-conflict replace ` +
        'to overwrite keys the source also has (keys only the target has are then left as they are)',
    );
  }
}

async function countKeys(target: RedisTarget): Promise<number> {
  let n = 0;
  for (const node of target.masters()) {
    const [info] = await (node.conns[0] as TargetNode['conns'][number]).sendBatch([['INFO', 'keyspace']]);
    const text = Buffer.isBuffer(info) ? info.toString('latin1') : String(info);
    for (const m of text.matchAll(/^db\d+:keys=(\d+)/gm)) n += Number(m[1]);
  }
  return n;
}

/** The node holding `key` and a writer on it; db 0 selected first on a standalone target. */
async function onKeyNode(
  target: RedisTarget,
  core: SinkCore,
  key: string,
  argvs: (string | Buffer)[][],
): Promise<RespValue[]> {
  const node = core.nodeForKey(Buffer.from(key));
  const w = core.orderedWriter(node);
  const select = core.canSelect ? [['SELECT', '0']] : [];
  const replies = await w.direct([...select, ...argvs]);
  if (core.canSelect) w.db = 0;
  for (const r of replies) if (r instanceof RespServerError) throw new Error(`${node.addr}: ${r.message}`);
  return replies.slice(select.length);
}

async function writeCheckpoint(target: RedisTarget, core: SinkCore, name: string, value: string): Promise<void> {
  const key = checkpointKey(name);
  await onKeyNode(target, core, key, [['SET', key, value]]);
}

async function readCheckpoint(target: RedisTarget, core: SinkCore, name: string): Promise<CheckpointState> {
  const key = checkpointKey(name);
  const [v] = await onKeyNode(target, core, key, [['GET', key]]);
  return parseCheckpoint(key, Buffer.isBuffer(v) ? v.toString('latin1') : null);
}

/** Cluster target: the slot checkpoints `__shake:sync:<name>:{tag}` (SCAN of every master). */
async function readSlotOffsets(
  target: RedisTarget,
  core: SinkCore,
  name: string,
): Promise<Map<number, number> | undefined> {
  const routing = target.routing;
  if (!routing) return undefined;
  const offsets = new Map<number, number>();
  const pattern = `${CHECKPOINT_PREFIX}${name}:{*`;
  for (const node of target.masters()) {
    const w = core.orderedWriter(node);
    let cursor = '0';
    do {
      const [r] = await w.direct([['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000']]);
      if (!Array.isArray(r)) throw new Error(`SCAN on ${node.addr}: ${String(r)}`);
      cursor = String(r[0]);
      const keys = (r[1] as Buffer[]) ?? [];
      if (keys.length === 0) continue;
      const values = await w.direct(keys.map((k) => ['GET', k]));
      keys.forEach((k, i) => {
        const v = values[i];
        const st = parseCheckpoint(k.toString('latin1'), Buffer.isBuffer(v) ? v.toString('latin1') : null);
        if (st.kind === 'at') offsets.set(routing.slotOf(k), st.offset);
      });
    } while (cursor !== '0');
  }
  return offsets;
}

/** Maps each db the source holds keys in now (INFO keyspace; nothing when it does not answer). */
async function noteSourceDbs(source: ConnectionOptions, dbs: DbMapper): Promise<void> {
  const conn = await connect({ ...source, db: undefined });
  try {
    const info = await conn.call(['INFO', 'keyspace']);
    const text = Buffer.isBuffer(info) ? info.toString('latin1') : String(info);
    for (const m of text.matchAll(/^db(\d+):keys=/gm)) dbs.map(Number(m[1]));
  } finally {
    await conn.close().catch(() => {});
  }
}

/** The commands the target knows (COMMAND; null when it cannot tell, e.g. before 2.8.13; a proxy: its list). */
async function knownCommands(target: RedisTarget): Promise<ReadonlySet<string> | null> {
  if (target.profile.kind === 'proxy') return TWEMPROXY_COMMANDS;
  const node = target.masters()[0];
  if (!node) return null;
  const [r] = await (node.conns[0] as TargetNode['conns'][number]).sendBatch([['COMMAND']]);
  if (!Array.isArray(r)) return null;
  const names = new Set<string>();
  for (const c of r) {
    if (Array.isArray(c) && c[0] !== undefined) names.add(String(c[0]).toLowerCase());
  }
  return names.size > 0 ? names : null;
}
