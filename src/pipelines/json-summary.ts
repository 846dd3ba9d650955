/**
 * `--json`: what each subcommand reports at its end, as plain data (the human summary lines' numbers, not their
 * words). The command adds `command`, `ok`, `exitCode` and `error`; core/json-text.ts renders it as one line.
 */
import type { CheckSummary } from './check.js';
import type { DumpRunResult } from './dump.js';
import type { RestoreRun } from './restore.js';
import type { RumpResult } from './rump.js';
import type { SyncResult } from './sync.js';
import type { Counters } from '../core/counters.js';

export type JsonSummary = Record<string, unknown>;

export function checkJson(s: CheckSummary): JsonSummary {
  const st = s.stats;
  return {
    equal: s.exitCode === 0 && !s.interrupted,
    interrupted: s.interrupted,
    elapsedMs: s.elapsedMs,
    keysCompared: st.compared,
    keysEqual: st.equal,
    keysVanished: st.vanished,
    bigKeys: st.bigKeys,
    targetScanned: st.targetScanned,
    bytesRead: st.bytesRead,
    rounds: st.rounds,
    settled: st.settled,
    functions: st.functions,
    sourceRead:
      st.snapshots > 0 ? (st.scannedMasters > 0 ? 'mixed' : 'replication') : st.scannedMasters > 0 ? 'scan' : 'file',
    snapshotBytes: st.snapshotBytes,
    targetRead: st.targetSnapshots > 0 ? 'replication' : 'commands',
    targetSnapshotBytes: st.targetSnapshotBytes,
    joinCandidates: st.joinCandidates,
    differences: Object.fromEntries(st.reported),
    failures: s.failures,
  };
}

export function restoreJson(run: RestoreRun, elapsedMs: number): JsonSummary {
  return {
    input: run.kind,
    files: run.files,
    interrupted: run.interrupted,
    stopped: run.stopped,
    elapsedMs,
    counters: run.counters.toJSON(),
    written: run.stats,
    ...(run.loadingExpiry ? { loadingExpiry: run.loadingExpiry } : {}),
    load: run.replicationLoad
      ? {
          by: 'replication',
          diskless: run.replicationLoad.diskless,
          keysPerDb: Object.fromEntries(run.replicationLoad.keysPerDb),
          expired: run.replicationLoad.expired,
          functions: run.replicationLoad.functions,
        }
      : { by: 'commands' },
  };
}

export function rumpJson(r: RumpResult, elapsedMs: number): JsonSummary {
  const s = r.stats;
  return {
    nodes: r.nodes,
    interrupted: r.interrupted,
    stopped: r.stopped,
    elapsedMs,
    sourceKeysAtStart: s.totalKeys,
    firstPassKeys: s.firstPassKeys,
    counters: r.counters.toJSON(),
    decodedForVersion: s.decodedForVersion,
    decodedForSize: s.decodedForSize,
    live: s.scanEndedAt !== null && s.notifyChecks.length > 0 ? s.live : null,
    written: r.sinkStats,
  };
}

export function syncJson(r: SyncResult, elapsedMs: number): JsonSummary {
  return {
    caughtUp: r.caughtUp,
    interrupted: r.interrupted,
    elapsedMs,
    links: r.links.map((l) => ({
      name: l.name,
      source: l.peer,
      replid: l.replid,
      offset: l.offset,
      fullSyncs: l.fullSyncs,
      partialSyncs: l.partialSyncs,
      reconnects: l.reconnects,
      snapshot: l.snapshot,
      counters: l.counters.toJSON(),
      apply: l.apply,
      peakSpoolBytes: l.peakSpoolBytes,
    })),
  };
}

export function dumpJson(r: DumpRunResult): JsonSummary {
  return {
    topology: r.topology,
    manifest: r.manifest,
    interrupted: r.interrupted,
    nodes: r.nodes.map((n) => ({
      source: `${n.host}:${n.port}`,
      id: n.id,
      path: n.path,
      mode: n.mode,
      form: n.form,
      fallback: n.fallback,
      bytes: n.bytes,
      keys: n.keys,
      rdbVersion: n.rdbVersion,
      skipped: Object.fromEntries(n.counters.skipped),
      elapsedMs: n.elapsedMs,
    })),
  };
}

export function decodeJson(c: Counters, elapsedMs: number, interrupted: boolean, extra: JsonSummary): JsonSummary {
  return { interrupted, elapsedMs, counters: c.toJSON(), ...extra };
}
