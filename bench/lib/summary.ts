/**
 * The rows of `npm run bench`'s final table: each bench reports its headline ratios here (shake's time against
 * the reference's, measured side by side in the same run). With $SHAKE_BENCH_SUMMARY set (scripts/run-benches.mjs
 * sets it) each row is appended to that file as one JSON line; otherwise nothing happens beyond the bench's own
 * printout.
 */
import { appendFileSync } from 'node:fs';

export interface RatioRow {
  /** What shake did, e.g. "restore of 1M keys (64.5 MiB RDB)". */
  work: string;
  /** The reference, e.g. "redis-server loading the RDB". */
  reference: string;
  /** Seconds (or another unit, the same for both). */
  shake: number;
  ref: number;
  /** The goal for shake / ref (e.g. 2 for "within 2x"); null when there is none. */
  goal: number | null;
  unit?: string;
}

export function reportRatio(row: RatioRow): void {
  const file = process.env.SHAKE_BENCH_SUMMARY;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ unit: 's', ...row })}\n`);
}
