/**
 * `--verify` on restore and rump: after the copy, the same comparison as `shake check` (src/pipelines/check.ts),
 * its summary on stderr, and the exit code it implies (0 equal, 1 differences, 2 could not check).
 */
import { openReport } from '../check/report.js';
import { describeError } from '../cli/describe-error.js';
import { runCheck, type CheckOptions, type CheckSummary } from './check.js';
import { checkSummaryLines } from './check-report.js';

export { checkSettings } from './check.js';

export async function verifyCopy(
  opts: CheckOptions,
  reportPath: string | undefined,
  note: (line: string) => void,
  /** Given the check's summary (for --json), when the check ran. */
  onSummary?: (summary: CheckSummary) => void,
): Promise<0 | 1 | 2> {
  note('verify: comparing the target with the source (shake check)');
  const report = openReport(reportPath);
  try {
    const summary = await runCheck({ ...opts, onDifference: (d) => report.write(d) });
    for (const line of checkSummaryLines(summary)) note(line.replace(/^check:/, 'verify:'));
    onSummary?.(summary);
    return summary.interrupted ? 2 : summary.exitCode;
  } catch (err) {
    note(`verify: could not check: ${describeError(err)}`);
    return 2;
  } finally {
    await report.close();
  }
}
