/** The one-line summary printed on stderr after a run: keys read, written, skipped by reason, time. */
import type { Counters } from '../core/counters.js';
import { printableKey } from '../core/printable-key.js';
import { formatBytes } from './progress.js';

export function summaryLine(
  c: Counters,
  elapsedMs: number,
  interrupted: boolean,
  /** What became of the keys kept, when they were not written one by one (decode --info: "summarized"). */
  kept?: string,
): string {
  const skipped = [...c.skipped].map(([reason, n]) => `${n} ${reason}`).join(', ');
  const secs = (elapsedMs / 1000).toFixed(2);
  const what = kept ?? `${c.keysWritten} written`;
  return (
    `${interrupted ? 'interrupted: ' : ''}${c.keysRead} keys read, ${what}` +
    `${skipped ? `, skipped: ${skipped}` : ''}; ${formatBytes(c.bytesRead)} in ${secs} s`
  );
}

/**
 * Why a run exits 1, in one line (printed even with --quiet, which silences only progress and summaries):
 * the stop reason, else how many keys failed and the first of them, else the interruption. Null when the
 * run succeeded.
 */
export function failureLine(c: Counters, stopped: string | null, interrupted: boolean): string | null {
  if (stopped) return stopped;
  if (c.failed > 0) {
    const f = c.failures[0];
    const where = f && f.key !== null ? `${f.db === null ? '' : `db ${f.db} `}${printableKey(f.key)}: ` : '';
    const first = f ? `; first: ${where}${f.message}` : '';
    return `${c.failed} key(s) or command(s) failed (${c.keysWritten} keys written)${first}`;
  }
  if (interrupted) return `interrupted after ${c.keysWritten} keys written`;
  return null;
}
