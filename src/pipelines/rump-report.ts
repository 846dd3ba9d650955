/**
 * The lines printed after a rump run, beyond the one-line summary: what was scanned and from where, keys
 * that vanished or changed type between SCAN and DUMP, payloads decoded for the target's version, what
 * --live did, then the Redis sink's own report (how keys were written, failures). Plain strings.
 */
import { restoreReport } from './restore-report.js';
import type { RumpResult } from './rump.js';
import { keysScanned } from '../rump/stats.js';

export function rumpReport(r: RumpResult): string[] {
  const c = r.counters;
  const s = r.stats;
  const lines: string[] = [];
  const nodes = r.nodes.length === 1 ? `${r.nodes[0]}` : `${r.nodes.length} nodes (${r.nodes.join(', ')})`;
  // The first pass against what INFO keyspace said at its start; keys --live read again come after it.
  const scanned = s.firstPassKeys ?? keysScanned(c);
  lines.push(
    `source ${nodes}: ${scanned} keys scanned by the first pass` +
      (s.totalKeys !== null ? ` (the source reported ${s.totalKeys} at its start)` : ''),
  );
  const vanished = c.skipped.get('vanished') ?? 0;
  const changed = c.skipped.get('type-changed') ?? 0;
  if (vanished > 0) lines.push(`${vanished} key(s) vanished between SCAN and DUMP (deleted or expired meanwhile)`);
  if (changed > 0) lines.push(`${changed} key(s) changed type between SCAN and DUMP (not copied: --type)`);
  if (s.decodedForVersion > 0) {
    lines.push(
      `${s.decodedForVersion} DUMP payload(s) of a type the target's RDB version cannot load were decoded and ` +
        're-encoded (or written as commands)',
    );
  }
  if (s.decodedForSize > 0) lines.push(`${s.decodedForSize} key(s) above the big-key threshold went as commands`);
  for (const n of s.notifyChecks) lines.push(`notifications: ${n}`);
  if (s.scanEndedAt !== null && s.notifyChecks.length > 0) {
    const l = s.live;
    lines.push(
      `live: ${l.events} key events, ${l.recopied} re-copies, ${l.deleted} deletions, ` +
        `${l.rescans} rescan(s), ${l.resubscribes} re-subscription(s), ${l.pending} still pending`,
    );
  }
  lines.push(
    ...restoreReport({
      counters: c,
      stats: r.sinkStats,
      kind: 'rdb',
      files: [],
      totalBytes: null,
      interrupted: r.interrupted,
      stopped: r.stopped,
    }),
  );
  return lines;
}
