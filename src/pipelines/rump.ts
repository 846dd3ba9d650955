/**
 * `shake rump` as a plain module (no oclif, no terminal): copy a live source to a live target with SCAN +
 * DUMP on the source and RESTORE (or commands) on the target, without SYNC/PSYNC/BGSAVE/CONFIG/KEYS, so
 * it works on managed services (AWS ElastiCache) and stays gentle on production (rate limited).
 * A cluster source is read node by node in parallel, each node at most at the rate; everything goes into
 * one Redis sink (the one restore uses: RESTORE vs commands, cluster routing, conflicts, counters).
 * With `live`, the target then follows the source through key-event notifications until the signal aborts.
 */
import type { RedisType } from '@shake/rdb';
import { defaultConfig } from '../config/schema.js';
import { Counters } from '../core/counters.js';
import type { ShardSpec } from '../cluster/index.js';
import type { ConnectionOptions } from '../redis/index.js';
import type { RewriteLimits } from '../rewrite/key-rewriter.js';
import type { ConnLimits } from '../sinks/redis/conn-writer.js';
import { RestoreStoppedError, type ConflictPolicy, type ErrorPolicy } from '../sinks/redis/core.js';
import { checkDbsFit, mayRefuseDbs, type DbMapSpec } from '../sinks/redis/db-map.js';
import { DEFAULT_BIG_KEY_THRESHOLD, RedisSink } from '../sinks/redis/sink.js';
import type { RedisSinkStats } from '../sinks/redis/stats.js';
import { targetKeyspace, type RedisTarget } from '../sinks/redis/target.js';
import { nameFilter } from '../rump/filters.js';
import { NodeRunner, type NodeSettings, type RumpContext } from '../rump/node-runner.js';
import { SerialWriter } from '../rump/serial-writer.js';
import { connectSource, discoverSourceNodes, slotRouter, type ConnectSource } from '../rump/source-nodes.js';
import { keysScanned, RumpStats } from '../rump/stats.js';
import { keySelectionOf, type KeySelection } from '../transforms/filter.js';

/** The schema's [rump] defaults, for library callers that leave an option out. */
const RUMP_DEFAULTS = defaultConfig().rump;

/** Keys per second per source node unless told otherwise (see docs/rump.md for the measured impact). */
export const DEFAULT_RUMP_RATE = RUMP_DEFAULTS.rate;

export interface RumpOptions extends KeySelection {
  /** The source (any node of a cluster). */
  source: ConnectionOptions;
  target: RedisTarget;
  counters?: Counters;
  stats?: RumpStats;
  /** SCAN MATCH glob. */
  match?: string;
  dbMap?: DbMapSpec;
  /** SCAN COUNT and keys per DUMP page (default 1000). */
  scanCount?: number;
  /** Keys per second per source node (default DEFAULT_RUMP_RATE; 0: unlimited). */
  rate?: number;
  /** DUMP payload bytes per second per source node (default 0: unlimited). */
  rateBytes?: number;
  /** Read these keys (one per line) instead of SCAN. */
  keysFile?: string;
  /** Cluster source: read a replica of each shard. */
  preferReplica?: boolean;
  /** --shard: only this share of a cluster source's masters (cluster/shard.ts). */
  shard?: ShardSpec;
  /** Copy function libraries (default true). */
  functions?: boolean;
  live?: boolean;
  /** Check notify-keyspace-events before --live relies on it (default true). */
  notifyCheck?: boolean;
  debounceMs?: number;
  maxPending?: number;
  onConflict?: ConflictPolicy;
  onError?: ErrorPolicy;
  /** An existing function library in the target (default replace). */
  functionsPolicy?: ConflictPolicy;
  bigKeyThreshold?: number;
  connLimits?: ConnLimits;
  rewriteLimits?: RewriteLimits;
  signal?: AbortSignal;
  onNotice?: (message: string) => void;
  onWarning?: (message: string) => void;
  /** Called once the first pass is done on every node and --live starts following. */
  onLive?: () => void;
  /** How source connections are opened (default: shake's own connection). */
  connectSource?: ConnectSource;
}

export interface RumpResult {
  counters: Counters;
  stats: RumpStats;
  sinkStats: RedisSinkStats;
  /** host:port of every node read. */
  nodes: string[];
  /** The first pass did not finish (stopped by the signal). */
  interrupted: boolean;
  /** Set when --on-error stop ended the run: why. */
  stopped: string | null;
}

function scanTypeFor(types: RedisType[] | undefined, redisVersion: string): string | null {
  if (!types || types.length !== 1) return null;
  const major = Number(redisVersion.split('.')[0] ?? 0);
  return major >= 6 ? (types[0] as string) : null;
}

export async function rump(opts: RumpOptions): Promise<RumpResult> {
  const counters = opts.counters ?? new Counters();
  const stats = opts.stats ?? new RumpStats();
  const factory = opts.connectSource ?? connectSource;
  const topo = await discoverSourceNodes({
    connection: opts.source,
    preferReplica: opts.preferReplica,
    shard: opts.shard,
    connectSource: factory,
    onNotice: opts.onNotice,
  });
  const nodes = topo.nodes;
  stats.nodes = nodes.length;
  if (topo.facts.cluster && opts.dbs?.some((d) => d !== 0)) {
    throw new Error(`--db ${opts.dbs.join(',')}: a cluster source has only db 0`);
  }
  // Several source dbs (INFO keyspace) with nowhere to go on a cluster or proxy target: refused before any write.
  const targetKind = opts.target.profile.kind;
  if (!topo.facts.cluster && !opts.keysFile && mayRefuseDbs(opts.dbMap, targetKind)) {
    const listed = [...topo.facts.keyspace.keys()];
    checkDbsFit(opts.dbMap, targetKind, opts.dbs?.length ? listed.filter((d) => opts.dbs!.includes(d)) : listed);
  }
  const filters = {
    ...keySelectionOf(opts),
    match: opts.match,
  };
  const bigKeyThreshold = opts.bigKeyThreshold ?? DEFAULT_BIG_KEY_THRESHOLD;
  const targetDbsAtStart = await targetKeyspace(opts.target);
  const sink = new RedisSink({
    targetDbsAtStart,
    target: opts.target,
    counters,
    onConflict: opts.onConflict ?? RUMP_DEFAULTS.on_conflict,
    onError: opts.onError ?? RUMP_DEFAULTS.on_error,
    functions: opts.functionsPolicy ?? RUMP_DEFAULTS.functions,
    bigKeyThreshold,
    dbMap: opts.dbMap,
    connLimits: opts.connLimits,
    rewriteLimits: opts.rewriteLimits,
    onWarning: opts.onWarning,
  });
  const inner = new AbortController();
  const settings: NodeSettings = {
    dbs: opts.dbs && opts.dbs.length > 0 ? opts.dbs : undefined,
    scanCount: opts.scanCount ?? RUMP_DEFAULTS.scan_count,
    match: opts.match,
    scanType: opts.keysFile ? null : scanTypeFor(opts.types, topo.facts.redisVersion),
    filters,
    nameFilter: nameFilter(filters),
    rate: { keysPerSec: opts.rate ?? RUMP_DEFAULTS.rate, bytesPerSec: opts.rateBytes ?? RUMP_DEFAULTS.rate_bytes },
    keysFile: opts.keysFile ?? null,
    functions: opts.functions !== false,
    live: opts.live === true,
    notifyCheck: opts.notifyCheck ?? RUMP_DEFAULTS.notify_check,
    debounceMs: opts.debounceMs ?? RUMP_DEFAULTS.debounce_ms,
    maxPending: opts.maxPending ?? RUMP_DEFAULTS.max_pending,
    bigKeyThreshold,
    routeKey: slotRouter(nodes),
    resubscribeForMs: 60_000,
    onNotice: opts.onNotice,
  };
  const ctx: RumpContext = {
    counters,
    stats,
    writer: new SerialWriter(sink),
    target: opts.target,
    signal: inner.signal,
    connectSource: factory,
    settings,
  };
  const runners = nodes.map((n, i) => new NodeRunner(n, i, ctx));
  const stop = (): void => {
    inner.abort();
    for (const r of runners) r.wake();
  };
  if (opts.signal?.aborted) stop();
  opts.signal?.addEventListener('abort', stop, { once: true });
  let stopped: string | null = null;
  let interrupted = false;
  try {
    stats.phase = 'scanning';
    await allOrStop(
      runners.map((r) => r.firstPass()),
      stop,
    );
    interrupted = inner.signal.aborted;
    await ctx.writer.flush();
    stats.scanEndedAt = Date.now();
    stats.firstPassKeys = keysScanned(counters);
    if (settings.live && !inner.signal.aborted) {
      stats.phase = 'live';
      opts.onLive?.();
      await allOrStop(
        runners.map((r) => r.follow()),
        stop,
      );
    }
    stats.phase = 'stopping';
    await ctx.writer.flush();
    await sink.close();
  } catch (err) {
    stop();
    if (!(err instanceof RestoreStoppedError)) throw err;
    stopped = err.message;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    await Promise.all(runners.map((r) => r.close()));
    stats.phase = 'done';
  }
  return { counters, stats, sinkStats: sink.stats, nodes: nodes.map((n) => n.addr), interrupted, stopped };
}

/** Waits for every task; the first failure stops the others, and is thrown once all have settled. */
async function allOrStop(tasks: Promise<void>[], stop: () => void): Promise<void> {
  let first: unknown = null;
  await Promise.all(
    tasks.map((t) =>
      t.catch((err: unknown) => {
        first ??= err;
        stop();
      }),
    ),
  );
  if (first !== null) throw first;
}
