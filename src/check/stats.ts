/** What a check counted: keys compared, equal, differing by kind, settled by the re-checks, vanished. */
import { PROBLEMS, type Problem } from './problems.js';

export class CheckStats {
  /** Source keys found on the source when read (first pass). */
  compared = 0;
  equal = 0;
  /** Keys SCAN returned that were gone from the source when read (deleted or expired meanwhile). */
  vanished = 0;
  /** Keys equal at once because both DUMP payloads held the same bytes. */
  payloadEqual = 0;
  /** Keys compared in chunks (above the big-key threshold). */
  bigKeys = 0;
  /** Target keys looked at by the extra-keys scan. */
  targetScanned = 0;
  /** Target dbs whose extra-keys scan was not needed: their key count is the number of source keys found there. */
  extraScanSkipped = 0;
  /** First pass: source keys found on the target, by target db (the extra-keys scan's shortcut, extra.ts). */
  readonly present = new Map<number, number>();
  /** Bytes of DUMP payloads and chunks read, both sides. */
  bytesRead = 0;
  /** Keys that differed in the first pass and were equal in a re-check. */
  settled = 0;
  /** Re-check rounds run. */
  rounds = 0;
  /** Differences found so far by kind (first pass and re-checks, before settling). */
  readonly found = new Map<Problem, number>();
  /** Differences reported at the end, by kind. */
  readonly reported = new Map<Problem, number>();
  /** Function libraries compared. */
  functions = 0;
  /** Source masters read through one replication snapshot each, and the snapshot bytes received. */
  snapshots = 0;
  snapshotBytes = 0;
  /**
   * Target masters read through one replication snapshot each (joined with the source's snapshots by key), their
   * bytes, the target keys they held, and the keys the join handed to the live comparison (bytes or expiry not
   * equal, big, or on one side only).
   */
  targetSnapshots = 0;
  targetSnapshotBytes = 0;
  targetSnapshotKeys = 0;
  joinCandidates = 0;
  /** The join's records went to temporary files (more than its memory bound). */
  joinSpilled = false;
  /** Source masters read by SCAN (--source-read scan, or auto where replication was refused). */
  scannedMasters = 0;

  differing(p: Problem): void {
    this.found.set(p, (this.found.get(p) ?? 0) + 1);
  }

  report(p: Problem): void {
    this.reported.set(p, (this.reported.get(p) ?? 0) + 1);
  }

  get reportedTotal(): number {
    let n = 0;
    for (const v of this.reported.values()) n += v;
    return n;
  }

  /** "missing 1, value 2" in the documented order; "none" when empty. */
  static kinds(m: Map<Problem, number>): string {
    const parts = PROBLEMS.filter((p) => (m.get(p) ?? 0) > 0).map((p) => `${p} ${m.get(p)}`);
    return parts.length > 0 ? parts.join(', ') : 'none';
  }
}
