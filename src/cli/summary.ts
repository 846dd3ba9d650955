/** The one-line summary printed on stderr after a run: keys read, written, skipped by reason, time. */
import type { Counters } from '../core/counters.js';
import { formatBytes } from './progress.js';

export function summaryLine(c: Counters, elapsedMs: number, interrupted: boolean): string {
  const skipped = [...c.skipped].map(([reason, n]) => `${n} ${reason}`).join(', ');
  const secs = (elapsedMs / 1000).toFixed(2);
  return (
    `${interrupted ? 'interrupted: ' : ''}${c.keysRead} keys read, ${c.keysWritten} written` +
    `${skipped ? `, skipped: ${skipped}` : ''}; ${formatBytes(c.bytesRead)} in ${secs} s`
  );
}
