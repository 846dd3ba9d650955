/**
 * The terminal edge of a check (shake check, and --verify on restore / rump): the summary lines for stderr
 * and the report sink (`--report FILE`, or `-` for stdout). The comparison itself is src/pipelines/check.ts.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { reportLine } from '../check/report.js';
import type { Difference } from '../check/problems.js';
import { CheckStats } from '../check/stats.js';
import type { CheckSummary } from '../pipelines/check.js';

export function checkSummaryLines(s: CheckSummary): string[] {
  const st = s.stats;
  const secs = (s.elapsedMs / 1000).toFixed(1);
  const lines = [
    `check: ${st.compared} keys compared, ${st.equal} equal, ${st.reportedTotal} differing ` +
      `(${CheckStats.kinds(st.reported)}) in ${secs} s${s.interrupted ? ' (interrupted)' : ''}`,
  ];
  const more: string[] = [];
  if (st.rounds > 0 || st.settled > 0) more.push(`${st.settled} settled after ${st.rounds} re-check round(s)`);
  if (st.vanished > 0) more.push(`${st.vanished} vanished from the source while read`);
  if (st.targetScanned > 0) more.push(`${st.targetScanned} target keys scanned for extras`);
  if (st.bigKeys > 0) more.push(`${st.bigKeys} big keys compared in chunks`);
  if (st.functions > 0) more.push(`${st.functions} function libraries`);
  if (more.length > 0) lines.push(`check: ${more.join(', ')}`);
  if ((st.reported.get('field-ttl-unsupported') ?? 0) > 0) {
    lines.push(
      'check: field-ttl-unsupported: hash field expiries the target cannot hold (before Redis 7.4); not counted as failures',
    );
  }
  lines.push(s.exitCode === 0 ? 'check: source and target are equal' : 'check: DIFFERENCES FOUND');
  return lines;
}

export interface ReportSink {
  write(d: Difference): void;
  close(): Promise<void>;
}

/** `-`: stdout; a path: that file (created or truncated); undefined: nothing. */
export function openReport(path: string | undefined): ReportSink {
  if (path === undefined) return { write: () => {}, close: async () => {} };
  const out: NodeJS.WritableStream | WriteStream = path === '-' ? process.stdout : createWriteStream(path);
  return {
    write: (d) => {
      out.write(reportLine(d));
    },
    close: async () => {
      if (out === process.stdout) return;
      const ws = out as WriteStream;
      ws.end();
      await once(ws, 'finish');
    },
  };
}
