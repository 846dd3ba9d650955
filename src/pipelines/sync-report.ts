/** The progress line and the closing report of `shake sync` (plain strings; the command prints them). */
import type { SyncProgress, SyncResult } from './sync.js';
import { restoreReport } from './restore-report.js';
import { formatBytes } from '../cli/progress.js';

/** phase, snapshot bytes/keys or offsets, lag (bytes and seconds), commands applied, spool, per link. */
export function syncProgressLine(p: SyncProgress): string {
  const parts: string[] = [];
  for (const [name, s] of p.links) {
    const head = p.links.size > 1 ? `${name} ` : '';
    const total = s.snapshotTotal !== null ? ` / ${formatBytes(s.snapshotTotal)}` : '';
    if (s.phase === 'snapshot') {
      parts.push(`${head}snapshot ${formatBytes(s.snapshotBytes)}${total}`);
    } else if (s.phase === 'loading') {
      // Loaded while it arrives (an empty target): the bytes received so far beside the keys loaded.
      parts.push(
        `${head}loading ${s.counters.keysRead.toLocaleString('en-US')} keys, snapshot ` +
          `${formatBytes(s.snapshotBytes)}${total} received, spool ${formatBytes(s.spoolBytes)}`,
      );
    } else if (s.phase === 'streaming' || s.phase === 'stopping') {
      const lag = s.received - s.applied;
      parts.push(
        `${head}${s.phase} offset ${s.applied} lag ${formatBytes(lag)} ${(s.lagMs / 1000).toFixed(1)} s, ` +
          `${s.counters.commandsWritten.toLocaleString('en-US')} cmds applied, spool ${formatBytes(s.spoolBytes)}`,
      );
    } else {
      parts.push(`${head}${s.phase}`);
    }
  }
  return parts.join(' | ');
}

export function syncReport(r: SyncResult, elapsedMs: number): string[] {
  const lines: string[] = [];
  const secs = (elapsedMs / 1000).toFixed(2);
  const end = r.interrupted ? 'stopped' : r.caughtUp ? 'caught up' : 'ended';
  lines.push(`sync ${end} after ${secs} s (${r.links.length} source master${r.links.length > 1 ? 's' : ''})`);
  for (const l of r.links) {
    const a = l.apply;
    lines.push(
      `${l.name}: offset ${l.offset} (replid ${l.replid}); full syncs ${l.fullSyncs}, partial ${l.partialSyncs}, ` +
        `reconnects ${l.reconnects}`,
    );
    if (l.snapshot) {
      lines.push(
        `  snapshot: ${formatBytes(l.snapshot.bytes)} (${l.snapshot.form}), ${l.snapshot.keys} keys, received in ` +
          `${(l.snapshot.elapsedMs / 1000).toFixed(2)} s`,
      );
    }
    const c = l.counters;
    const unknown = [...a.unknown].map(([n, k]) => `${n.toUpperCase()} x${k}`).join(', ');
    lines.push(
      `  stream: ${c.commandsWritten} commands applied in ${a.batches} batches; ${a.transactions} source ` +
        `transactions (${a.splitTransactions} split across slots), ${a.splitCommands} multi-key commands split, ` +
        `${a.publishSkipped} PUBLISH not forwarded, ${a.alreadyApplied} already applied; spool peak ` +
        `${formatBytes(l.peakSpoolBytes)}${unknown ? `; NOT APPLIED (unknown to the target): ${unknown}` : ''}`,
    );
    if (a.mergedDbNoops + a.mergedFlushes > 0) {
      lines.push(
        `  --db-map merging dbs: ${a.mergedDbNoops} MOVE/COPY/SWAPDB between merged dbs (nothing to do there), ` +
          `${a.mergedFlushes} FLUSHDB of a merged db (it also emptied the other source dbs' keys there)`,
      );
    }
    if (a.filtered + a.filterCut + a.filterMixed > 0) {
      lines.push(
        `  key selection: ${a.filtered} commands left out, ${a.filterCut} cut to their selected keys, ` +
          `${a.filterMixed} applied as they are though they name keys outside the selection${
            a.filterMixed > 0 ? ' (what they wrote may differ from the source)' : ''
          }`,
      );
    }
    const e = a.expiry;
    if (e && e.deferredKeys + e.deferredFields > 0) {
      lines.push(
        `  expiries applied after their time: ${e.deferredKeys} key and ${e.deferredFields} field expir(y/ies) ` +
          `kept deferred as a replica keeps them (until the master's DEL)${
            r.caughtUp
              ? `; at the cut-over ${e.expiredKeys} key(s) deleted as expired, the rest given their time back`
              : ''
          }`,
      );
    }
    const rest = l.restore ? restoreReport(l.restore).map((x) => `  ${x}`) : failureLines(l.counters);
    lines.push(...rest);
  }
  return lines;
}

function failureLines(c: SyncResult['links'][number]['counters']): string[] {
  if (c.failures.length === 0) return [];
  const out = [`  failed ${c.failed}; first failures:`];
  for (const f of c.failures) {
    out.push(
      `    ${f.db === null ? '' : `db ${f.db} `}${f.key ? JSON.stringify(f.key.toString('utf8')) : '-'}: ${f.message}`,
    );
  }
  return out;
}

/** The numbers /metrics and /status show for a sync (every link summed; the lag is the worst link's). */
export function syncGauges(p: SyncProgress): Record<string, number> {
  const g = {
    sync_links: p.links.size,
    sync_received_offset_bytes: 0,
    sync_applied_offset_bytes: 0,
    sync_lag_bytes: 0,
    sync_lag_seconds: 0,
    sync_spool_bytes: 0,
    sync_snapshot_bytes: 0,
    sync_keys_written: 0,
    sync_commands_applied: 0,
    sync_failed: 0,
  };
  for (const s of p.links.values()) {
    g.sync_received_offset_bytes += s.received;
    g.sync_applied_offset_bytes += s.applied;
    g.sync_lag_bytes += Math.max(0, s.received - s.applied);
    g.sync_lag_seconds = Math.max(g.sync_lag_seconds, s.lagMs / 1000);
    g.sync_spool_bytes += s.spoolBytes;
    g.sync_snapshot_bytes += s.snapshotBytes;
    g.sync_keys_written += s.counters.keysWritten;
    g.sync_commands_applied += s.counters.commandsWritten;
    g.sync_failed += s.counters.failed;
  }
  return g;
}

/** The least advanced phase of the links (what the whole sync is doing). */
export function syncPhase(p: SyncProgress): string {
  const order = ['connecting', 'snapshot', 'loading', 'streaming', 'stopping'];
  let min = order.length;
  for (const s of p.links.values()) min = Math.min(min, order.indexOf(s.phase));
  return order[min] ?? 'connecting';
}
