/** The summary lines a check prints on stderr (shake check, and --verify on restore / rump). */
import { CheckStats } from '../check/stats.js';
import type { CheckSummary } from './check.js';

export function checkSummaryLines(s: CheckSummary): string[] {
  const st = s.stats;
  const secs = (s.elapsedMs / 1000).toFixed(1);
  const lines = [
    `check: ${st.compared} keys compared, ${st.equal} equal, ${st.reportedTotal} differing ` +
      `(${CheckStats.kinds(st.reported)}) in ${secs} s${s.interrupted ? ' (interrupted)' : ''}`,
  ];
  const more: string[] = [];
  if (st.snapshots > 0) {
    more.push(
      `source read through replication (${st.snapshots} snapshot(s), ${(st.snapshotBytes / 1048576).toFixed(1)} MiB)`,
    );
  }
  if (st.targetSnapshots > 0) {
    more.push(
      `target read through replication (${st.targetSnapshots} snapshot(s), ` +
        `${(st.targetSnapshotBytes / 1048576).toFixed(1)} MiB, ${st.targetSnapshotKeys} keys), ` +
        `${st.joinCandidates} keys compared live after the join`,
    );
  }
  if (st.scannedMasters > 0 && st.snapshots > 0) more.push(`${st.scannedMasters} source master(s) read by SCAN`);
  if (st.rounds > 0 || st.settled > 0) more.push(`${st.settled} settled after ${st.rounds} re-check round(s)`);
  if (st.vanished > 0) more.push(`${st.vanished} vanished from the source while read`);
  if (st.targetScanned > 0) more.push(`${st.targetScanned} target keys scanned for extras`);
  if (st.extraScanSkipped > 0) {
    more.push(`${st.extraScanSkipped} target db(s) not scanned for extras (key count = source keys found there)`);
  }
  if (st.bigKeys > 0) more.push(`${st.bigKeys} big keys compared in chunks`);
  if (st.functions > 0) more.push(`${st.functions} function libraries`);
  if (more.length > 0) lines.push(`check: ${more.join(', ')}`);
  if ((st.reported.get('field-ttl-unsupported') ?? 0) > 0) {
    lines.push(
      'check: field-ttl-unsupported: hash field expiries the target cannot hold (before Redis 7.4); not counted as failures',
    );
  }
  if (s.interrupted) lines.push('check: INTERRUPTED: not every key was compared (nothing is known of the others)');
  else lines.push(s.exitCode === 0 ? 'check: source and target are equal' : 'check: DIFFERENCES FOUND');
  return lines;
}
