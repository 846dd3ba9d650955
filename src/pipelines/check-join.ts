/**
 * A check whose two sides are read as RDB snapshots and joined by key (check/snapshot-join.ts): a live source's
 * masters and the target's masters each through one replication snapshot, or RDB files as the source and the
 * target's snapshots. The keys the join cannot call equal go to the per-key comparison.
 */
import { createReadStream } from 'node:fs';
import type { RdbEvent } from '@shake/rdb';
import { targetKeyCounts } from '../check/extra.js';
import { libraryNameOf } from '../check/functions.js';
import { checkKeys, type KeyCheckContext } from '../check/key-check.js';
import type { Difference } from '../check/problems.js';
import { CheckError, int, type CheckSide } from '../check/side.js';
import { joinSnapshots, type JoinCandidate } from '../check/snapshot-join.js';
import { KeyHashSet } from '../core/key-hash-set.js';
import type { ConnectionOptions } from '../redis/index.js';
import { isRefusal, openSnapshotStream, type SnapshotStream } from '../replica/snapshot-stream.js';
import { openMasterSocket } from '../replica/snapshot-dump.js';
import type { DbMapper } from '../sinks/redis/db-map.js';
import type { CheckOptions, SourceRead, TargetRead } from './check.js';

/** "host:port" (or "[v6]:port") as host and port. */
export function hostPort(addr: string): { host: string; port: number } {
  const at = addr.lastIndexOf(':');
  return { host: addr.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(addr.slice(at + 1)) };
}

export interface BothRead {
  ctx: KeyCheckContext;
  sourceConnection: ConnectionOptions | null;
  targetConnection: ConnectionOptions;
  /** The live source's masters, or none where the source is RDB files. */
  sourceMasters: { host: string; port: number }[];
  /** RDB files as the source (an RDB file or a dump's manifest): read with the parser, joined with the target's snapshots. */
  sourceFiles?: string[];
  read: SourceRead;
  targetRead: TargetRead;
  timeoutMs: number;
  mapper: DbMapper;
  sourceDbOf: (tdb: number) => number | undefined;
  dbs?: number[];
  /** The user's key filter (the join itself leaves out shake's own keys, `__shake:*`). */
  names: ((db: number, key: Buffer) => boolean) | null;
  /** Report keys only on the target. */
  extra: boolean;
  join?: CheckOptions['join'];
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
}

/** Candidates of a join compared live per page of this many keys, this many pages at once. */
const JOIN_PAGE = 500;
const PAGES_IN_FLIGHT = 3;

/** A joined read of RDB files and the target. */
export interface FileJoinResult {
  /**
   * Keys of the files whose records did not agree with the target's (bytes, expiry, big, or not in the target's
   * snapshot), by source db: the caller compares them as the per-key path does (a second read of the files).
   */
  fileKeys: KeyHashSet;
  /** The files' function libraries, name -> code. */
  libraries: Map<string, Buffer>;
}

/**
 * Both sides read through one replication snapshot per master and joined by key (check/snapshot-join.ts); the
 * keys the join cannot call equal are compared live on both sides (key-check.ts). null: a side refused
 * replication where auto allows a fallback (nothing was compared; the caller takes the per-key path).
 *
 * RDB files as the source (sourceFiles): each file read with the parser (its CRC checked) and joined with the
 * target's snapshots the same way; keys only in the target's snapshot are extra when the target still holds them
 * (EXISTS); the files' other keys that do not agree are handed back (fileKeys) for the per-key comparison.
 */
export async function readBoth(r: BothRead, collect: (d: Difference) => void): Promise<FileJoinResult | null> {
  const { ctx } = r;
  const sources: SnapshotStream[] = [];
  const targets: SnapshotStream[] = [];
  const closeAll = (): void => {
    for (const s of [...sources, ...targets]) s.close();
  };
  const open = (connection: ConnectionOptions): Promise<SnapshotStream> =>
    // 2 MiB queued per link (not 4): two or more links at once, and the join's own records beside them.
    openSnapshotStream({
      open: () => openMasterSocket(connection),
      timeoutMs: r.timeoutMs,
      highWaterMark: 2 * 1024 * 1024,
      signal: r.signal,
    });
  // The target's masters first (all at once), then the source's: a target that refuses costs the source no fork.
  const settle = async (
    conns: { where: string; connection: ConnectionOptions }[],
    into: SnapshotStream[],
  ): Promise<{ where: string; err: unknown } | null> => {
    const got = await Promise.allSettled(conns.map((c) => open(c.connection)));
    let failed: { where: string; err: unknown } | null = null;
    got.forEach((g, i) => {
      if (g.status === 'fulfilled') into.push(g.value);
      else failed ??= { where: conns[i]!.where, err: g.reason };
    });
    return failed;
  };
  try {
    const t = await settle(
      ctx.target.server.masters().map((node) => ({
        where: node.addr,
        connection: { ...r.targetConnection, ...hostPort(node.addr), db: undefined },
      })),
      targets,
    );
    if (t) {
      if (!isRefusal(t.err)) throw new CheckError(`target ${t.where}: ${(t.err as Error).message}`);
      const why = refusal(t.err, '--target-read commands');
      if (r.targetRead === 'replication') throw new CheckError(`target ${t.where}: ${why}`);
      r.onNotice?.(`target ${t.where} refused replication (${why}); the target is read per key`);
      closeAll();
      return null;
    }
    const s = await settle(
      r.sourceMasters.map((m) => ({
        where: `${m.host}:${m.port}`,
        connection: { ...r.sourceConnection!, host: m.host, port: m.port, db: undefined },
      })),
      sources,
    );
    if (s) {
      if (!isRefusal(s.err)) throw new CheckError(`source ${s.where}: ${(s.err as Error).message}`);
      if (r.read === 'replication') throw new CheckError(refusal(s.err, '--source-read scan'));
      // The per-master path reads this master by SCAN (and says so); nothing was compared yet.
      closeAll();
      return null;
    }
  } catch (err) {
    closeAll();
    throw err;
  }
  ctx.stats.snapshots += sources.length;
  ctx.stats.targetSnapshots += targets.length;
  const files = r.sourceFiles ?? [];
  const fileKeys = new KeyHashSet();
  const libraries = new Map<string, Buffer>();
  const onFileCandidates = async (batch: JoinCandidate[]): Promise<void> => {
    const extras = new Map<number, JoinCandidate[]>();
    for (const c of batch) {
      if (!c.onlyTarget) fileKeys.add(c.srcDb, c.key);
      else if (r.extra) {
        let list = extras.get(c.tdb);
        if (!list) extras.set(c.tdb, (list = []));
        list.push(c);
      }
    }
    // Only in the target's snapshot: extra where the target still holds it (as the extra-keys scan finds it).
    for (const [tdb, list] of extras) {
      for (let i = 0; i < list.length; i += JOIN_PAGE) {
        const page = list.slice(i, i + JOIN_PAGE);
        const replies = await ctx.target.perKey(
          tdb,
          page.map((c) => c.key),
          (k) => [['EXISTS', k]],
        );
        page.forEach((c, j) => {
          if (int(replies[j]![0]) !== 1) return;
          ctx.stats.differing('extra');
          collect({ db: c.srcDb, key: c.key, problem: 'extra', detail: c.srcDb === tdb ? {} : { targetDb: tdb } });
        });
      }
    }
  };
  const onCandidates = async (batch: JoinCandidate[]): Promise<void> => {
    if (files.length > 0) return onFileCandidates(batch);
    const groups = new Map<string, { srcDb: number; tdb: number; onlyTarget: boolean; keys: Buffer[] }>();
    for (const c of batch) {
      if (c.onlyTarget && !r.extra) continue;
      const id = `${c.srcDb}/${c.tdb}/${c.onlyTarget}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { srcDb: c.srcDb, tdb: c.tdb, onlyTarget: c.onlyTarget, keys: [] }));
      g.keys.push(c.key);
    }
    const inflight: Promise<unknown>[] = [];
    for (const g of groups.values()) {
      for (let i = 0; i < g.keys.length; i += JOIN_PAGE) {
        if (inflight.length >= PAGES_IN_FLIGHT) await inflight.shift();
        const page = checkKeys(
          ctx,
          g.srcDb,
          g.tdb,
          g.keys.slice(i, i + JOIN_PAGE),
          { sourceAbsent: g.onlyTarget ? 'extra' : 'vanished' },
          collect,
        );
        page.catch(() => {}); // awaited in order; not unhandled meanwhile
        inflight.push(page);
      }
    }
    for (const page of inflight) await page;
  };
  const reads = files.map((file) => createReadStream(file, { highWaterMark: 64 * 1024 }));
  try {
    // (A file source's context has the target as its source: only the target's count is known.)
    const expected = Math.max(await keyCount(ctx.source), await keyCount(ctx.target));
    const fileInputs = files.map((file, i) => ({
      chunks: reads[i] as AsyncIterable<Buffer>,
      name: file,
      // A file is checked whole (a damaged file is an error, as the per-key path says).
      checksum: true,
      onEvent: (e: RdbEvent): void => {
        if (e.kind === 'function') libraries.set(libraryNameOf(e.code), e.code);
      },
    }));
    const res = await joinSnapshots(
      {
        sources: [...sources.map((s) => ({ chunks: s.chunks, name: `source ${s.peer}` })), ...fileInputs],
        targets: targets.map((s) => ({ chunks: s.chunks, name: `target ${s.peer}` })),
        mapper: r.mapper,
        sourceDbOf: r.sourceDbOf,
        dbs: r.dbs,
        names: r.names,
        bigKeyThreshold: ctx.bigKeyThreshold,
        expectedKeys: expected,
        memoryBytes: r.join?.memoryBytes,
        groupBytes: r.join?.groupBytes,
        spillDir: r.join?.dir,
        stats: ctx.stats,
        signal: r.signal,
      },
      onCandidates,
    );
    ctx.stats.joinSpilled = res.spilled;
  } finally {
    closeAll();
    for (const f of reads) f.destroy();
    for (const s of sources) ctx.stats.snapshotBytes += s.bytes;
    for (const s of targets) ctx.stats.targetSnapshotBytes += s.bytes;
  }
  return { fileKeys, libraries };
}

/** Keys of every db of every master (INFO keyspace). */
export async function keyCount(side: CheckSide): Promise<number> {
  let n = 0;
  for (const v of (await targetKeyCounts(side)).values()) n += v;
  return n;
}

/** A refusal's message with dump's option (--mode scan) replaced by check's. */
export function refusal(err: Error, option: string): string {
  const why = err.message.replace('--mode scan', option);
  return why.includes(option) ? why : `${why}: use ${option} (or auto to fall back by itself)`;
}
