/**
 * `shake dump`: save an RDB of a live source. For each master (one for a standalone server, every
 * master of a cluster, in parallel) either be a replica long enough to receive its snapshot (replication
 * mode), or read it with SCAN + DUMP (scan mode). `auto` tries replication and falls back to scan, with a
 * notice, when the source refuses it (SYNC/PSYNC disabled as on AWS ElastiCache, or -NOPERM).
 * No terminal code here: the command prints notices and progress from the callbacks and `DumpProgress`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { defaultConfig } from '../config/schema.js';
import { Counters } from '../core/counters.js';
import type { ConnectionOptions } from '../redis/index.js';
import { STDOUT } from '../sinks/rdb-file-output.js';
import { manifestPath, nodeFileName, writeManifest, type DumpManifest } from '../replica/dump-files.js';
import { ReplicationError } from '../replica/errors.js';
import { dumpViaScan } from './dump-scan.js';
import { perMaster, sourceTopology } from './per-master.js';
import { addressKey, refuseShardOfStandalone, shardMasters, type ShardSpec } from '../cluster/index.js';
import { dumpSnapshot, openMasterSocket } from '../replica/snapshot-dump.js';

export type DumpMode = 'auto' | 'replication' | 'scan';

/** The schema's [dump] defaults, for library callers that leave an option out. */
const DUMP_DEFAULTS = defaultConfig().dump;

export interface DumpRunOptions {
  /** --shard: only this share of a cluster source's masters (cluster/shard.ts). */
  shard?: ShardSpec;
  /** The source (any node of a cluster). */
  connection: ConnectionOptions;
  /** Output file; for a cluster, the stem for the per-node files and the manifest. */
  output: string;
  mode: DumpMode;
  /** Only these dbs (scan mode; a replication snapshot always holds every db). */
  dbs?: number[];
  /** Idle timeout of the replication link (a master forking may be silent but for keepalives). */
  timeoutMs?: number;
  scanCount?: number;
  /** REPLCONF rdb-only 1 (default true). */
  rdbOnly?: boolean;
  fsync?: boolean;
  onNotice?: (message: string) => void;
  signal?: AbortSignal;
  /** Shared progress state (bytes, keys) the caller can draw. */
  progress?: DumpProgress;
}

export interface NodeDumpResult {
  host: string;
  port: number;
  id: string;
  slots: [number, number][];
  path: string;
  mode: 'replication' | 'scan';
  bytes: number;
  /** Keys written (scan mode); null for a replication snapshot (not parsed). */
  keys: number | null;
  rdbVersion: number | null;
  /** 'disk' ($<len>) or 'diskless' ($EOF) for replication; null for scan. */
  form: 'disk' | 'diskless' | null;
  /** Why replication was not used when mode was auto. */
  fallback: string | null;
  counters: Counters;
  elapsedMs: number;
}

export interface DumpRunResult {
  topology: 'standalone' | 'cluster';
  nodes: NodeDumpResult[];
  manifest: string | null;
  interrupted: boolean;
}

/** Bytes and keys across every node being dumped, for a progress line. */
export class DumpProgress {
  private readonly nodes = new Map<string, { bytes: number; total: number | null; keys: number | null }>();
  /** `keys` null: a replication snapshot, which counts bytes, not keys. */
  set(node: string, bytes: number, total: number | null, keys: number | null): void {
    this.nodes.set(node, { bytes, total, keys });
  }
  /** Why nothing arrives yet: connecting, or every master is still preparing its snapshot. */
  get waiting(): string | null {
    if (this.nodes.size === 0) return 'connecting to the source';
    for (const v of this.nodes.values()) if (v.keys !== null || v.bytes > 0) return null;
    return (
      "waiting for the master's snapshot (it starts after the master's repl-diskless-sync-delay, " +
      'or once a BGSAVE it is running ends)'
    );
  }
  get bytes(): number {
    let n = 0;
    for (const v of this.nodes.values()) n += v.bytes;
    return n;
  }
  /** Known only when every node's total is known. */
  get total(): number | null {
    let n = 0;
    for (const v of this.nodes.values()) {
      if (v.total === null) return null;
      n += v.total;
    }
    return this.nodes.size > 0 ? n : null;
  }
  /** null when no node counts keys (every one is a replication snapshot). */
  get keys(): number | null {
    let n: number | null = null;
    for (const v of this.nodes.values()) if (v.keys !== null) n = (n ?? 0) + v.keys;
    return n;
  }
}

interface Target {
  host: string;
  port: number;
  id: string;
  slots: [number, number][];
  path: string;
}

export async function runDump(opts: DumpRunOptions): Promise<DumpRunResult> {
  if (opts.mode === 'replication' && opts.dbs && opts.dbs.length > 0) {
    throw new Error(
      '--db selects databases in scan mode only (a replication snapshot holds every db): add --mode scan',
    );
  }
  const outDir = dirname(opts.output);
  if (opts.output !== STDOUT && (!existsSync(outDir) || !statSync(outDir).isDirectory())) {
    throw new Error(`cannot write ${opts.output}: directory ${outDir} does not exist`);
  }
  const { cluster, targets } = await listTargets(opts);
  if (cluster && opts.output === STDOUT) {
    throw new Error(
      `-o -: the source is a cluster of ${targets.length} masters, one RDB file each plus a manifest; give -o FILE`,
    );
  }
  const nodes = await perMaster(targets, opts.signal, (t, signal) => dumpNode(opts, t, signal), cluster);
  const interrupted = opts.signal?.aborted === true;
  let manifest: string | null = null;
  if (cluster && !interrupted) {
    const shard = opts.shard && opts.shard.count > 1 ? opts.shard : null;
    // One manifest per shard: processes writing to the same directory do not overwrite each other's.
    manifest = shard
      ? manifestPath(opts.output).replace(/\.manifest\.json$/, `.shard-${shard.index}-of-${shard.count}.manifest.json`)
      : manifestPath(opts.output);
    const doc: DumpManifest = {
      version: 1,
      nodes: nodes.map((n) => ({
        id: n.id,
        host: n.host,
        port: n.port,
        slots: n.slots,
        file: basename(n.path),
      })),
    };
    await writeManifest(manifest, doc);
  }
  return { topology: cluster ? 'cluster' : 'standalone', nodes, manifest, interrupted };
}

/** The masters to dump: the server itself, or every master of its cluster with its slot ranges. */
async function listTargets(opts: DumpRunOptions): Promise<{ cluster: boolean; targets: Target[] }> {
  const c = opts.connection;
  const topo = await sourceTopology(c);
  if (topo.mode === 'standalone') {
    refuseShardOfStandalone(opts.shard);
    return { cluster: false, targets: [{ host: c.host, port: c.port, id: '', slots: [], path: opts.output }] };
  }
  const byMaster = new Map<string, Target>();
  const mine = new Set(shardMasters(topo.table.masters(), opts.shard).map(addressKey));
  for (const r of topo.table.ranges()) {
    const key = `${r.master.host}:${r.master.port}`;
    if (!mine.has(addressKey(r.master))) continue;
    let t = byMaster.get(key);
    if (!t) {
      const id = r.master.id ?? '';
      t = { host: r.master.host, port: r.master.port, id, slots: [], path: '' };
      t.path = join(dirname(opts.output), nodeFileName(opts.output, t));
      byMaster.set(key, t);
    }
    t.slots.push([r.start, r.end]);
  }
  return { cluster: true, targets: [...byMaster.values()] };
}

async function dumpNode(opts: DumpRunOptions, t: Target, signal: AbortSignal): Promise<NodeDumpResult> {
  const started = Date.now();
  const name = `${t.host}:${t.port}`;
  const connection: ConnectionOptions = { ...opts.connection, host: t.host, port: t.port, db: undefined };
  const counters = new Counters();
  const base = { host: t.host, port: t.port, id: t.id, slots: t.slots, path: t.path, counters };
  let fallback: string | null = null;
  const dbsChosen = opts.dbs !== undefined && opts.dbs.length > 0;
  if (opts.mode === 'auto' && dbsChosen) opts.onNotice?.(`${name}: --db given, using SCAN + DUMP`);
  if (opts.mode !== 'scan' && !(opts.mode === 'auto' && dbsChosen)) {
    opts.progress?.set(name, 0, null, null);
    try {
      const res = await dumpSnapshot({
        open: () => openMasterSocket(connection),
        path: t.path,
        timeoutMs: opts.timeoutMs ?? DUMP_DEFAULTS.timeout_ms,
        rdbOnly: opts.rdbOnly ?? DUMP_DEFAULTS.rdb_only,
        fsync: opts.fsync ?? DUMP_DEFAULTS.fsync,
        signal,
        onProgress: (p) => opts.progress?.set(name, p.bytes, p.total, null),
      });
      counters.bytesRead = res.bytes;
      return {
        ...base,
        mode: 'replication',
        bytes: res.bytes,
        keys: null,
        rdbVersion: res.rdbVersion,
        form: res.form,
        fallback: null,
        elapsedMs: Date.now() - started,
      };
    } catch (err) {
      const refused = err instanceof ReplicationError && err.kind === 'refused';
      if (refused && opts.mode === 'replication' && !err.message.includes('--mode scan')) {
        err.message += ': use --mode scan (SCAN + DUMP), or --mode auto to fall back by itself';
      }
      if (!(refused && opts.mode === 'auto')) throw err;
      fallback = err.message;
      opts.onNotice?.(`${name}: replication refused (${err.message}); falling back to SCAN + DUMP`);
    }
  }
  const progressTimer = setInterval(() => opts.progress?.set(name, counters.bytesRead, null, counters.keysRead), 250);
  progressTimer.unref();
  try {
    const res = await dumpViaScan({
      connection,
      path: t.path,
      counters,
      dbs: opts.dbs,
      scanCount: opts.scanCount ?? DUMP_DEFAULTS.scan_count,
      fsync: opts.fsync ?? DUMP_DEFAULTS.fsync,
      signal,
      onNotice: (m) => opts.onNotice?.(`${name}: ${m}`),
    });
    opts.progress?.set(name, counters.bytesRead, null, counters.keysRead);
    if (res.source.duplicates > 0) {
      opts.onNotice?.(`${name}: SCAN returned ${res.source.duplicates} keys twice; each was written once`);
    }
    return {
      ...base,
      mode: 'scan',
      bytes: res.file?.bytes ?? 0,
      keys: res.file?.keys ?? null,
      rdbVersion: res.file?.rdbVersion ?? null,
      form: null,
      fallback,
      elapsedMs: Date.now() - started,
    };
  } finally {
    clearInterval(progressTimer);
  }
}
