/**
 * `shake check` as a plain module: is the target equal to the source? The function a command calls, a test
 * calls, and restore / rump / sync call for `--verify` (runCheck: source and target in, summary out).
 *
 * A live source (standalone or cluster) is scanned master by master, each master by its own worker, pages
 * checked pipelined on both sides (src/check/key-check.ts); an RDB file source is read once (rdb-source.ts), a
 * `shake dump` manifest (a cluster's dump) file by file.
 * Then the keys only on the target (extra.ts), the function libraries (functions.ts), and for a live source
 * the re-check rounds: the keys that differed are compared again after `intervalMs`, up to `rounds` times,
 * and only the differences that persist are reported (the others count as settled).
 */
import type { RedisType } from '@shake/rdb';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkRdbFile, type RdbCheckResult } from '../check/rdb-source.js';
import { compareFunctions, liveLibraries } from '../check/functions.js';
import { liveLookup, scanExtras, targetKeyCounts, type SourceLookup } from '../check/extra.js';
import { checkKeys, type KeyCheckContext } from '../check/key-check.js';
import { NOT_FAILURES, type Difference } from '../check/problems.js';
import { CheckError, CheckSide, ok } from '../check/side.js';
import { CheckStats } from '../check/stats.js';
import { isShakeStateKey } from '../check/state-key.js';
import { defaultConfig, type ShakeConfig } from '../config/schema.js';
import { addressKey, refuseShardOfStandalone, shardMasters, type ShardSpec } from '../cluster/index.js';
import type { ConnectionOptions } from '../redis/index.js';
import type { TargetKind } from '../rewrite/features.js';
import { nameFilter } from '../rump/filters.js';
import { RateLimiter } from '../rump/rate-limit.js';
import { DbMapper, type DbMapSpec } from '../sinks/redis/db-map.js';
import { openTarget } from '../sinks/redis/open-target.js';
import { perMaster, sourceTopology } from './per-master.js';
import { compareBig } from '../check/chunks.js';
import { checkSnapshot } from '../check/snapshot-source.js';
import { isRefusal, openSnapshotStream } from '../replica/snapshot-stream.js';
import { soleSourceDbs } from '../check/snapshot-join.js';
import { hostPort, keyCount, readBoth, refusal, type BothRead, type FileJoinResult } from './check-join.js';
import { openMasterSocket } from '../replica/snapshot-dump.js';
import type { TargetNode } from '../sinks/redis/target.js';
import { resolveInput } from '../sources/manifest.js';
import { keySelectionOf, type KeySelection } from '../transforms/filter.js';
import { parseInfo } from '../sources/scan-server.js';
import type { RespValue } from '@shake/resp';

export interface CheckOptions extends KeySelection {
  /** A live source (any node of a cluster), or an RDB file or the manifest of a cluster dump. */
  source: ConnectionOptions | { rdbFile: string };
  target: ConnectionOptions;
  targetKind?: TargetKind;
  /**
   * --shard: compare only the keys of this share of a cluster source's masters (cluster/shard.ts): their keys,
   * and the target's keys in their slots; function libraries in shard 0 only.
   */
  shard?: ShardSpec;
  match?: string;
  dbMap?: DbMapSpec;
  /** Scan the target for keys the source lacks (default true). */
  extra?: boolean;
  /** Compare function libraries (default true). */
  functions?: boolean;
  /**
   * How a live source is read: one replication snapshot per master (auto falls back to SCAN when the source
   * refuses replication, or a rate limit is set), or SCAN + per-key reads on both sides.
   */
  sourceRead?: SourceRead;
  /**
   * How the target is read when the source is read by replication: a replication snapshot per target master too,
   * joined with the source's by key (check/snapshot-join.ts; auto falls back to per-key commands when the target
   * refuses), or per-key commands.
   */
  targetRead?: TargetRead;
  /** The snapshot join's memory bounds and temporary directory (check/snapshot-join.ts; tests force spilling). */
  join?: { memoryBytes?: number; groupBytes?: number; dir?: string };
  /** Idle timeout of a replication link ([dump] timeout_ms). */
  replicationTimeoutMs?: number;
  /** Re-check rounds for a live source (0: report the first pass). */
  rounds?: number;
  intervalMs?: number;
  scanCount?: number;
  bigKeyThreshold?: number;
  chunk?: number;
  ttlToleranceMs?: number;
  /** Differing keys kept for the re-check rounds; beyond this they are reported from the first pass. */
  maxRecheck?: number;
  /** Keys / bytes per second read from each source master (0: unlimited). */
  rate?: number;
  rateBytes?: number;
  stats?: CheckStats;
  /** Each difference that is reported (after the re-checks). */
  onDifference?: (d: Difference) => void;
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
}

export type SourceRead = 'auto' | 'replication' | 'scan';
export type TargetRead = 'auto' | 'replication' | 'commands';

/** DUMP payload bytes read per pipelined page: a fixed memory bound, not a setting. */
const CHECK_BATCH_BYTES = 64 * 1024 * 1024;

/** The [check] settings as runCheck options: the one mapping (the command, --verify, and runCheck's defaults). */
export function checkSettings(c: ShakeConfig['check']) {
  return {
    sourceRead: c.source_read,
    targetRead: c.target_read,
    extra: c.extra,
    functions: c.functions,
    rounds: c.rounds,
    intervalMs: c.interval_ms,
    scanCount: c.scan_count,
    bigKeyThreshold: c.big_key_threshold,
    chunk: c.chunk,
    ttlToleranceMs: c.ttl_tolerance_ms,
    rate: c.rate,
    rateBytes: c.rate_bytes,
    maxRecheck: c.max_recheck,
  } satisfies Partial<CheckOptions>;
}

export interface CheckSummary {
  stats: CheckStats;
  /** Reported differences that count as failures (all but field-ttl-unsupported). */
  failures: number;
  /** 0: equal; 1: differences. (A check that could not run throws instead: exit 2.) */
  exitCode: 0 | 1;
  elapsedMs: number;
  interrupted: boolean;
}

export async function runCheck(opts: CheckOptions): Promise<CheckSummary> {
  const started = Date.now();
  const stats = opts.stats ?? new CheckStats();
  const d = checkSettings(defaultConfig().check);
  const o = {
    rounds: opts.rounds ?? d.rounds,
    intervalMs: opts.intervalMs ?? d.intervalMs,
    scanCount: opts.scanCount ?? d.scanCount,
    maxRecheck: opts.maxRecheck ?? d.maxRecheck,
  };
  const target = new CheckSide(
    'target',
    await openTarget({ connection: { ...opts.target, name: 'shake-check' }, kind: opts.targetKind }),
  );
  const live = !('rdbFile' in opts.source);
  let source: CheckSide | null = null;
  const pending: Difference[] = [];
  let failures = 0;
  let reportedCount = 0;
  /** Reported as soon as it is final: nothing holds the differences that need no re-check. */
  const emit = (diff: Difference): void => {
    stats.report(diff.problem);
    reportedCount++;
    if (!NOT_FAILURES.has(diff.problem)) failures++;
    opts.onDifference?.(diff);
  };
  const collect = (diff: Difference): void => {
    if (live && o.rounds > 0 && pending.length < o.maxRecheck) pending.push(diff);
    else emit(diff);
  };
  try {
    if (live) {
      source = new CheckSide(
        'source',
        await openTarget({ connection: { ...(opts.source as ConnectionOptions), name: 'shake-check' } }),
      );
    }
    // --shard: the source masters of this share, and whether a key's slot is theirs.
    let mine: Set<string> | null = null;
    const shard = opts.shard && opts.shard.count > 1 ? opts.shard : null;
    if (shard) {
      if (!source?.cluster) refuseShardOfStandalone(shard);
      const topo = await sourceTopology(opts.source as ConnectionOptions);
      if (topo.mode === 'standalone') refuseShardOfStandalone(shard);
      else mine = new Set(shardMasters(topo.table.masters(), shard).map(addressKey));
    }
    const routing = source?.server.routing ?? null;
    const inShard = (key: Buffer): boolean =>
      mine === null || routing === null || mine.has(routing.nodeForKey(key).addr);
    const compareFunctionsHere = (opts.functions ?? d.functions) && (shard === null || shard.index === 0);
    const mapper = new DbMapper(opts.dbMap ?? { map: new Map(), rest: null }, !target.features.select, 'the target');
    const filters = { ...keySelectionOf(opts), match: opts.match };
    // Keys named __shake:* are shake's own state in a target (sync's checkpoints), never user data: not compared.
    const userNames = nameFilter(filters);
    const names = (db: number, key: Buffer): boolean =>
      !isShakeStateKey(key) && (userNames === null || userNames(db, key));
    const ctxOf = (src: CheckSide): KeyCheckContext => ({
      source: src,
      target,
      bigKeyThreshold: opts.bigKeyThreshold ?? d.bigKeyThreshold,
      batchBytes: CHECK_BATCH_BYTES,
      chunk: opts.chunk ?? d.chunk,
      ttlToleranceMs: opts.ttlToleranceMs ?? d.ttlToleranceMs,
      stats,
      onNotice: opts.onNotice,
    });
    // The extra-keys scan's shortcut (extra.ts targetKeyCounts): key counts before the pass, compared after it.
    // A proxy (twemproxy) answers no SCAN or INFO: the keys only on the target cannot be looked for there.
    const extra = (opts.extra ?? d.extra) && !target.proxy;
    if ((opts.extra ?? d.extra) && target.proxy) {
      opts.onNotice?.(
        'the target is a proxy (no SCAN through it): keys only on the target are not looked for; ' +
          'check each server behind it as a target for those',
      );
    }
    // What a joined read (check-join.ts) takes the same way for a live source and for RDB files.
    const joinCommon = (
      targetRead: TargetRead,
      sourceDbOf: (tdb: number) => number | undefined,
    ): Omit<BothRead, 'ctx' | 'sourceConnection' | 'sourceMasters' | 'sourceFiles' | 'read'> => ({
      targetConnection: opts.target,
      targetRead,
      timeoutMs: opts.replicationTimeoutMs ?? defaultConfig().dump.timeout_ms,
      mapper,
      sourceDbOf,
      dbs: opts.dbs,
      names: userNames,
      extra,
      join: opts.join,
      onNotice: opts.onNotice,
      signal: opts.signal,
    });
    const countable =
      extra &&
      mine === null &&
      userNames === null &&
      !(opts.types && opts.types.length > 0) &&
      opts.match === undefined;
    const countsBefore = countable ? await targetKeyCounts(target) : null;
    let sourceDbs: number[];
    let lookup: SourceLookup;
    let libraries: Map<string, Buffer> | null;
    let joined = false;
    if (source) {
      const ctx = ctxOf(source);
      sourceDbs = await liveDbs(source, opts.dbs);
      const rate = { keysPerSec: opts.rate ?? d.rate, bytesPerSec: opts.rateBytes ?? d.rateBytes };
      const read = opts.sourceRead ?? d.sourceRead;
      const limited = rate.keysPerSec > 0 || rate.bytesPerSec > 0;
      if (read === 'auto' && limited) opts.onNotice?.('a source rate limit is set: the source is read by SCAN');
      const scan = (node: TargetNode): Promise<void> => {
        stats.scannedMasters++;
        return scanNode(
          ctx,
          node.conns[0]!,
          sourceDbs,
          mapper,
          {
            scanCount: o.scanCount,
            match: opts.match,
            types: opts.types,
            names,
            limiter: new RateLimiter(rate),
            signal: opts.signal,
          },
          collect,
        );
      };
      const masters = source.server
        .masters()
        .filter((node) => mine === null || mine.has(node.addr))
        .map((node) => ({ ...hostPort(node.addr), node }));
      // Both sides as snapshots joined by key, where nothing needs the per-key path (see joinable).
      const targetRead = opts.targetRead ?? d.targetRead;
      const sourceDbOf =
        read !== 'scan' && !limited && targetRead !== 'commands'
          ? joinable(opts, target, mine !== null, mapper, source, sourceDbs, targetRead)
          : null;
      if (sourceDbOf) {
        joined =
          (await readBoth(
            {
              ...joinCommon(targetRead, sourceDbOf),
              ctx,
              sourceConnection: opts.source as ConnectionOptions,
              sourceMasters: masters,
              read,
            },
            collect,
          )) !== null;
      }
      if (!joined)
        await perMaster(masters, opts.signal, async (m, signal) => {
          if (read === 'scan' || (read === 'auto' && limited)) return scan(m.node);
          const accepted = await readSnapshot(
            {
              ctx,
              connection: { ...(opts.source as ConnectionOptions), host: m.host, port: m.port, db: undefined },
              read,
              timeoutMs: opts.replicationTimeoutMs ?? defaultConfig().dump.timeout_ms,
              mapper,
              filters: { dbs: opts.dbs, types: opts.types },
              names,
              onNotice: opts.onNotice,
              signal,
            },
            collect,
          );
          if (!accepted) await scan(m.node);
        });
      lookup = liveLookup(source);
      libraries = compareFunctionsHere ? await liveLibraries(source) : null;
    } else {
      // One RDB file, or the manifest `shake dump` writes for a cluster: each node's file checked in turn.
      const files = rdbFilesOf((opts.source as { rdbFile: string }).rdbFile);
      // Joined with the target's snapshots where it allows (see fileJoinable): then only the files' keys that do
      // not agree with the target's are read again and compared per key.
      const targetRead = opts.targetRead ?? d.targetRead;
      let sourceDbOf = fileJoinable(opts, target, targetRead);
      // auto: only for a big target (a snapshot may wait for the target's repl-diskless-sync-delay, 5 s by
      // default, in which the per-key path compares about half a million keys).
      if (sourceDbOf && targetRead === 'auto' && (await keyCount(target)) < FILE_JOIN_MIN_KEYS) sourceDbOf = null;
      let fileJoin: FileJoinResult | null = null;
      if (sourceDbOf) {
        fileJoin = await readBoth(
          {
            ...joinCommon(targetRead, sourceDbOf),
            // A file's context: the target stands as its source (its name and TTL rules only; rdb-source.ts).
            ctx: { ...ctxOf(target), source: target },
            sourceConnection: null,
            sourceMasters: [],
            sourceFiles: files,
            read: 'replication',
          },
          collect,
        );
        joined = fileJoin !== null;
      }
      const fileKeys = fileJoin?.fileKeys ?? null;
      const results: RdbCheckResult[] = [];
      if (fileKeys === null || fileKeys.size > 0) {
        const only =
          fileKeys === null ? names : (db: number, key: Buffer): boolean => fileKeys.has(db, key) && names(db, key);
        for (const file of files) {
          if (opts.signal?.aborted) break;
          results.push(
            await checkRdbFile({ file, ctxOf, target, mapper, filters, names: only, signal: opts.signal }, collect),
          );
        }
      }
      sourceDbs = [...new Set(results.flatMap((r) => r.dbs))].sort((a, b) => a - b);
      lookup = async (db, ks) => {
        const found = ks.map(() => false);
        for (const r of results) (await r.lookup(db, ks)).forEach((has, i) => (found[i] ||= has));
        return found;
      };
      libraries = fileJoin?.libraries ?? new Map(results.flatMap((r) => [...r.libraries]));
    }
    // A join found the keys only on the target already.
    if (extra && !joined && !opts.signal?.aborted) {
      const maxDb = Math.max(15, ...sourceDbs);
      const candidates = opts.dbs && opts.dbs.length > 0 ? opts.dbs : Array.from({ length: maxDb + 1 }, (_, i) => i);
      const single = !(source ? source.features.select : true);
      const sourceDbsFor = (tdb: number): number[] =>
        candidates.filter((s) => (!single || s === 0) && safeMap(mapper, s) === tdb);
      const countsAfter = countsBefore ? await targetKeyCounts(target) : null;
      const noExtras = new Set<number>();
      for (const [tdb, n] of countsAfter ?? []) {
        const same = countsBefore!.get(tdb) === n && (stats.present.get(tdb) ?? 0) === n;
        if (same && sourceDbsFor(tdb).length === 1) noExtras.add(tdb);
      }
      stats.extraScanSkipped = noExtras.size;
      const skipDb = (tdb: number): boolean => noExtras.has(tdb);
      await scanExtras(
        {
          target,
          sourceDbsFor,
          skipDb,
          has: lookup,
          nameFilter: mine === null ? names : (db: number, key: Buffer) => inShard(key) && names(db, key),
          types: opts.types,
          match: opts.match,
          scanCount: o.scanCount,
          stats,
          signal: opts.signal,
        },
        collect,
      );
    }
    if (compareFunctionsHere && (libraries !== null || target.features.functions)) {
      for (const diff of await compareFunctions(libraries, target)) {
        stats.differing('function');
        collect(diff);
      }
      stats.functions = libraries?.size ?? 0;
    }
    if (source && pending.length > 0) {
      const ctx = ctxOf(source);
      let left = pending.splice(0);
      for (let round = 1; round <= o.rounds && left.length > 0 && !opts.signal?.aborted; round++) {
        await sleep(o.intervalMs, undefined, { signal: opts.signal }).catch(() => {});
        if (opts.signal?.aborted) break;
        stats.rounds = round;
        left = await recheck(ctx, left, mapper, libraries === null ? null : source);
      }
      for (const diff of left) emit(diff);
      stats.settled = countSettled(stats, reportedCount);
    }
  } finally {
    await Promise.all([target.close(), source?.close()]);
  }
  return {
    stats,
    failures,
    exitCode: failures > 0 ? 1 : 0,
    elapsedMs: Date.now() - started,
    interrupted: opts.signal?.aborted === true,
  };
}

/** The RDB files behind a file source: the file itself, or every node's file of a `shake dump` manifest. */
function rdbFilesOf(path: string): string[] {
  let input;
  try {
    input = resolveInput(path);
  } catch (err) {
    throw new CheckError((err as Error).message);
  }
  if (input.kind === 'rdb' || input.kind === 'dump-manifest') return input.files;
  throw new CheckError(`${path}: a ${input.kind} file; check reads an RDB file or a shake dump manifest`);
}

function countSettled(stats: CheckStats, reported: number): number {
  let found = 0;
  for (const v of stats.found.values()) found += v;
  return Math.max(0, found - reported);
}

function safeMap(mapper: DbMapper, db: number): number | null {
  try {
    return mapper.map(db);
  } catch {
    return null;
  }
}

/** The dbs to check on a live source: the ones asked for, else every db INFO keyspace lists. */
async function liveDbs(source: CheckSide, asked: number[] | undefined): Promise<number[]> {
  if (source.cluster) {
    if (asked?.some((db) => db !== 0)) throw new CheckError(`--db ${asked.join(',')}: a cluster source has only db 0`);
    return [0];
  }
  if (asked && asked.length > 0) return [...asked].sort((a, b) => a - b);
  const [reply] = await source.everyMaster(['INFO', 'keyspace']);
  const info = parseInfo(String(ok(reply, 'INFO keyspace', source)));
  const dbs: number[] = [];
  for (const k of info.keys()) {
    const m = /^db(\d+)$/.exec(k);
    if (m) dbs.push(Number(m[1]));
  }
  return dbs.sort((a, b) => a - b);
}

/** Target keys from which `--target-read auto` joins an RDB file source with the target's snapshots. */
const FILE_JOIN_MIN_KEYS = 500_000;

/**
 * The target db -> source db map of an RDB file source joined with the target's snapshots, or null where the
 * per-key path reads the target instead: --type, a proxy target, a target without SELECT (a cluster: the file's
 * first db goes to db 0, known only once read), a db map (a target db could receive two of the file's dbs);
 * --target-read commands. --target-read replication then fails instead.
 */
function fileJoinable(
  opts: CheckOptions,
  target: CheckSide,
  targetRead: TargetRead,
): ((tdb: number) => number | undefined) | null {
  if (targetRead === 'commands') return null;
  const why =
    opts.types && opts.types.length > 0
      ? '--type'
      : target.proxy
        ? 'a proxy target'
        : !target.features.select || target.cluster
          ? 'a target with only db 0'
          : opts.dbMap && (opts.dbMap.map.size > 0 || opts.dbMap.rest !== null)
            ? '--db-map with an RDB file source'
            : null;
  if (why !== null && targetRead === 'replication') {
    throw new CheckError(`--target-read replication: not with ${why}; use --target-read auto or commands`);
  }
  // Each db of the file to the same db of the target.
  return why === null ? (tdb) => tdb : null;
}

interface SnapshotRead {
  ctx: KeyCheckContext;
  /** The master to read (the source's connection settings with its address). */
  connection: ConnectionOptions;
  read: 'auto' | 'replication';
  timeoutMs: number;
  mapper: DbMapper;
  filters: { dbs?: number[]; types?: RedisType[] };
  names: ((db: number, key: Buffer) => boolean) | null;
  onNotice?: (message: string) => void;
  signal: AbortSignal;
}

/**
 * One source master read through its replication snapshot (check/snapshot-source.ts), big keys compared against
 * the live master in chunks. false: the master refused replication and `read` is auto (the caller scans it).
 */
async function readSnapshot(r: SnapshotRead, collect: (d: Difference) => void): Promise<boolean> {
  const { ctx } = r;
  const where = `${r.connection.host}:${r.connection.port}`;
  let stream;
  try {
    stream = await openSnapshotStream({
      open: () => openMasterSocket(r.connection),
      timeoutMs: r.timeoutMs,
      signal: r.signal,
    });
  } catch (err) {
    if (!isRefusal(err)) throw new CheckError(`source ${where}: ${(err as Error).message}`);
    // The refusal names dump's option; check's is --source-read.
    if (r.read === 'replication') throw new CheckError(refusal(err, '--source-read scan'));
    const why = err.message.replace('--mode scan', '--source-read scan');
    r.onNotice?.(`source ${where} refused replication (${why}); reading it by SCAN`);
    return false;
  }
  ctx.stats.snapshots++;
  try {
    await checkSnapshot(
      {
        chunks: stream.chunks,
        name: `source ${stream.peer}`,
        ctx,
        mapper: r.mapper,
        filters: r.filters,
        names: r.names,
        bigKey: (k, tdb) => compareBig(ctx, k.header.db, tdb, k.header.key),
        signal: r.signal,
      },
      collect,
    );
  } finally {
    ctx.stats.snapshotBytes += stream.bytes;
  }
  return true;
}

/**
 * The target db -> source db map of a snapshot join, or null where the join cannot stand in for the per-key path:
 * --shard (the target's keys of other shards), --type (a target key's type is the source's question), a proxy
 * target (no replication through it), a db map that sends two source dbs into one target db (a target key could
 * belong to either). --target-read replication then fails instead.
 */
function joinable(
  opts: CheckOptions,
  target: CheckSide,
  sharded: boolean,
  mapper: DbMapper,
  source: CheckSide,
  sourceDbs: number[],
  targetRead: TargetRead,
): ((tdb: number) => number | undefined) | null {
  let why: string | null = sharded
    ? '--shard'
    : opts.types && opts.types.length > 0
      ? '--type'
      : target.proxy
        ? 'a proxy target'
        : null;
  let of: ((tdb: number) => number | undefined) | null = null;
  if (why === null) {
    // The source's own dbs first: a single-db target's implicit mapping is the first db the source has.
    for (const db of sourceDbs) safeMap(mapper, db);
    const maxDb = Math.max(15, ...sourceDbs);
    const all = opts.dbs && opts.dbs.length > 0 ? opts.dbs : Array.from({ length: maxDb + 1 }, (_, i) => i);
    of = soleSourceDbs(mapper, source.features.select ? all : all.filter((db) => db === 0));
    if (of === null) why = 'a db map that merges source dbs';
  }
  if (of === null && targetRead === 'replication') {
    throw new CheckError(`--target-read replication: not with ${why}; use --target-read auto or commands`);
  }
  return of;
}

/** Pages being compared at once per source master (each is two pipelined rounds on both sides). */
const PAGES_IN_FLIGHT = 3;

interface ScanSettings {
  scanCount: number;
  match?: string;
  types?: RedisType[];
  names: ((db: number, key: Buffer) => boolean) | null;
  limiter: RateLimiter;
  signal?: AbortSignal;
}

interface Pipelined {
  sendBatch(argvs: readonly (readonly (string | Buffer)[])[]): Promise<RespValue[]>;
}

/** One source master: SCAN each db, the next page read while the current one is checked. */
async function scanNode(
  ctx: KeyCheckContext,
  conn: Pipelined,
  dbs: number[],
  mapper: DbMapper,
  s: ScanSettings,
  collect: (d: Difference) => void,
): Promise<void> {
  const source = ctx.source;
  const scanType =
    s.types && s.types.length === 1 && source.features.version[0] >= 6 ? (s.types[0] as string) : undefined;
  for (const db of dbs) {
    const tdb = mapper.map(db);
    let cursor = '0';
    const inflight: Promise<void>[] = [];
    do {
      if (s.signal?.aborted) break;
      await s.limiter.wait(s.signal);
      const argv: string[] = ['SCAN', cursor, 'COUNT', String(s.limiter.pageSize(s.scanCount))];
      if (s.match !== undefined) argv.push('MATCH', s.match);
      if (scanType) argv.push('TYPE', scanType);
      const replies = await conn.sendBatch(source.features.select ? [['SELECT', String(db)], argv] : [argv]);
      const reply = ok(replies[replies.length - 1], 'SCAN', source) as RespValue[];
      cursor = Buffer.isBuffer(reply[0]) ? reply[0].toString('latin1') : String(reply[0]);
      let keys = (reply[1] as RespValue[]).map((k) => (Buffer.isBuffer(k) ? k : Buffer.from(String(k))));
      if (s.names) keys = keys.filter((k) => s.names!(db, k));
      if (s.types && s.types.length > 0 && !scanType && keys.length > 0) {
        const types = await source.perKey(db, keys, (k) => [['TYPE', k]]);
        const wanted = new Set<string>(s.types);
        keys = keys.filter((_, i) => wanted.has(String(types[i]![0])));
      }
      s.limiter.charge(keys.length, 0);
      if (inflight.length >= PAGES_IN_FLIGHT) await inflight.shift();
      if (keys.length === 0) continue;
      const page = checkKeys(ctx, db, tdb, keys, { sourceAbsent: 'vanished' }, collect).then((bytes) =>
        s.limiter.charge(0, bytes),
      );
      // Awaited in order below; a failure must not count as unhandled meanwhile.
      page.catch(() => {});
      inflight.push(page);
    } while (cursor !== '0');
    for (const page of inflight) await page;
  }
}

/** Re-checks the keys (and libraries) that differed; returns the differences that are still there. */
async function recheck(
  ctx: KeyCheckContext,
  diffs: Difference[],
  mapper: DbMapper,
  functionsSource: CheckSide | null,
): Promise<Difference[]> {
  const still: Difference[] = [];
  const scratch = new CheckStats();
  const quiet: KeyCheckContext = { ...ctx, stats: scratch };
  const byDb = new Map<number, Buffer[]>();
  let libraries = false;
  for (const diff of diffs) {
    if (diff.key === null || diff.db === null) {
      libraries = true;
      continue;
    }
    let keys = byDb.get(diff.db);
    if (!keys) byDb.set(diff.db, (keys = []));
    keys.push(diff.key);
  }
  for (const [db, keys] of byDb) {
    for (let i = 0; i < keys.length; i += 1000) {
      await checkKeys(quiet, db, mapper.map(db), keys.slice(i, i + 1000), { sourceAbsent: 'recheck' }, (x) =>
        still.push(x),
      );
    }
  }
  if (libraries) {
    for (const diff of await compareFunctions(
      functionsSource ? await liveLibraries(functionsSource) : null,
      ctx.target,
    )) {
      still.push(diff);
    }
  }
  return still;
}
